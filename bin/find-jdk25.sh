# Sourced by ./shears and .ci/run: sets JAVA_HOME to a JDK 25 (Temurin or other) or fails.
_is25() { [[ -x "$1/bin/java" ]] && "$1/bin/java" -version 2>&1 | grep -q 'version "25'; }
if [[ -n "${JAVA_HOME:-}" ]] && _is25 "$JAVA_HOME"; then
  :
else
  JAVA_HOME=
  for j in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25* /usr/lib/jvm/java-25* /usr/lib/jvm/jdk-25* /opt/java/openjdk "$HOME"/.sdkman/candidates/java/25*; do
    if _is25 "$j"; then JAVA_HOME=$j; break; fi
  done
  if [[ -z "$JAVA_HOME" ]] && command -v java >/dev/null && java -version 2>&1 | grep -q 'version "25'; then
    JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
  fi
  if [[ -z "$JAVA_HOME" ]]; then
    echo "shears: Java 25 is required and was not found (looked at \$JAVA_HOME and /usr/lib/jvm)." >&2
    echo "        Install Temurin 25 (https://adoptium.net) or set JAVA_HOME to a JDK 25." >&2
    exit 2
  fi
fi
export JAVA_HOME
