#!/usr/bin/env python3
"""Distils the ABI facts Shears' hand-written cuBLAS / cuSPARSE bindings rely on from NVIDIA's headers.

Reads cublas_api.h, cublas_v2.h, cusparse.h, library_types.h and driver_types.h from an include
directory and writes, for every function and enum constant the Java bindings mention, only facts:
the function's name, return type and parameter C types (parameter names dropped), the kind of each
named type it uses (enum / pointer / struct), and the numeric value of every enumerator of each enum
the Java code uses. No header text is copied. The output is what
native-bindings/src/test/java/dev/shears/nativebind/LibrarySignatureTest.java and
LibraryConstantsTest.java check the bindings against, in every build, without the headers.

Which functions and constants to extract is read from the Java sources: every string literal that
names a function of the library (e.g. "cublasSgemm_v2") and every upper-case identifier that is an
enumerator of the header. A binding added to the Java code therefore needs this script re-run.

Usage (the headers come from Debian's nvidia-cuda-dev, see src/test/resources/abi/README.md):
    python3 extract-abi.py --include /tmp/aptnf/x/usr/include \
        [--java native-bindings/src/main/java] [--out native-bindings/src/test/resources/abi]

Output file format, one fact per line ('#' lines are comments):
    header <file> <version>
    function <name>(<ctype>, <ctype>, ...) -> <ctype>
    type <name> enum|pointer|struct
    enum <enum type> <ENUMERATOR> = <integer>
    alias <macro name> = <function name>        (cublas_v2.h's #define cublasX cublasX_v2)
"""
import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MODULE = os.path.normpath(os.path.join(HERE, "..", "..", ".."))

# Tokens that only decorate declarations (calling convention, export, deprecation).
DECORATION = re.compile(
    r"\b(?:CUBLASAPI|CUBLASWINAPI|CUSPARSEAPI|CUSPARSELT_API|CUDARTAPI|__device_builtin__|"
    r"CUSPARSE_DEPRECATED_TYPE_MSVC|CUSPARSE_DEPRECATED_TYPE|CUSPARSE_DEPRECATED_ENUM\s*\([^)]*\)|"
    r"CUSPARSE_DEPRECATED_REPLACE_WITH\s*\([^)]*\)|CUSPARSE_DEPRECATED)\b")
PRIMITIVE = {"void", "char", "int", "unsigned", "unsigned int", "long", "long int", "long long",
             "long long int", "unsigned long long", "short", "float", "double", "size_t", "int8_t",
             "uint8_t", "int16_t", "uint16_t", "int32_t", "uint32_t", "int64_t", "uint64_t"}


def strip(text):
    """The header without comments and preprocessor lines, decorations removed."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    lines = []
    continued = False
    for line in text.split("\n"):
        if continued or line.lstrip().startswith("#"):
            continued = line.rstrip().endswith("\\")
            continue
        lines.append(line)
    text = "\n".join(lines)
    text = re.sub(r'extern\s+"C"\s*\{', " ", text)
    return DECORATION.sub(" ", text)


def norm_type(t):
    t = re.sub(r"\s+", " ", t).strip()
    t = re.sub(r"\s*\*\s*", "*", t)
    return t


def param_type(p):
    """'const float* alpha' -> 'const float*'; 'long long int strideA' -> 'long long int'."""
    p = norm_type(p)
    if p in ("void", ""):
        return p
    m = re.match(r"^(.*?[\w*])\s*\b([A-Za-z_]\w*)$", p)
    if not m or m.group(1).strip() in ("const", "unsigned", "struct", "enum"):
        raise SystemExit("cannot split parameter '%s' into type and name" % p)
    return norm_type(m.group(1))


def base_name(ctype):
    return norm_type(ctype.replace("const ", "").replace("*", "")).strip()


class Header:
    def __init__(self):
        self.enums = {}        # enum type -> [(name, value)]
        self.enumerator = {}   # enumerator -> (enum type, value)
        self.kinds = {}        # type name -> enum | pointer | struct
        self.aliases = {}      # typedef alias -> target type name
        self.own_enums = set() # enum types declared in the header the facts are about
        self.text = ""

    def read(self, path, own=False):
        """Reads a header; 'own' marks the one the facts are about (others only supply typedefs)."""
        text = strip(open(path, encoding="utf-8", errors="replace").read())
        if own:
            self.text += "\n" + text
        self._enums(text, own)
        self._typedefs(text)

    def _enums(self, text, own):
        for m in re.finditer(r"typedef\s+enum\s*(\w*)\s*\{(.*?)\}\s*(\w+)\s*;", text, re.S):
            tag, body, name = m.group(1), m.group(2), m.group(3)
            values, nxt = [], 0
            for item in body.split(","):
                item = item.strip()
                if not item:
                    continue
                im = re.match(r"^(\w+)\s*(?:=\s*(.+))?$", item, re.S)
                if not im:
                    raise SystemExit("cannot read enumerator '%s' of %s" % (item, name))
                ident, expr = im.group(1), im.group(2)
                if expr is not None:
                    expr = expr.strip()
                    ref = self.enumerator.get(expr) or dict((n, (name, v)) for n, v in values).get(expr)
                    if ref is not None:
                        val = ref[1]
                    else:
                        if not re.match(r"^[-+()\s0-9xXa-fA-F<|]+$", expr):
                            raise SystemExit("cannot evaluate %s = %s" % (ident, expr))
                        val = int(eval(expr.replace("(", " (")))  # integer literals, shifts, ors only
                else:
                    val = nxt
                values.append((ident, val))
                nxt = val + 1
            self.enums[name] = values
            if own:
                self.own_enums.add(name)
            for ident, val in values:
                self.enumerator[ident] = (name, val)
            self.kinds[name] = "enum"
            if tag:
                self.kinds[tag] = "enum"

    def _typedefs(self, text):
        for m in re.finditer(r"typedef\s+struct\s+\w+\s*(?:const\s*)?\*\s*(\w+)\s*;", text):
            self.kinds[m.group(1)] = "pointer"
        for m in re.finditer(r"typedef\s+struct\s*\w*\s*\{[^}]*\}\s*(\w+)\s*;", text):
            self.kinds[m.group(1)] = "struct"
        for m in re.finditer(r"typedef\s+enum\s+(\w+)\s+(\w+)\s*;", text):
            self.kinds[m.group(2)] = "enum"
        for m in re.finditer(r"typedef\s+(\w+)\s+(\w+)\s*;", text):
            if m.group(1) not in ("struct", "enum"):
                self.aliases[m.group(2)] = m.group(1)

    def kind(self, name):
        seen = set()
        while name in self.aliases and name not in seen:
            seen.add(name)
            name = self.aliases[name]
        return self.kinds.get(name)

    def function(self, name):
        pat = re.compile(r"(?:^|[;}])\s*([^;{}()]*?)\b" + re.escape(name) + r"\s*\(([^()]*)\)\s*;", re.S)
        m = pat.search(self.text)
        if not m:
            return None
        ret = norm_type(m.group(1))
        params = m.group(2).strip()
        types = [] if params in ("", "void") else [param_type(p) for p in params.split(",")]
        return ret, types


def java_sources(root):
    out = []
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(".java"):
                out.append(open(os.path.join(d, f), encoding="utf-8").read())
    return "\n".join(out)


def version(text, prefix):
    parts = []
    for p in ("MAJOR", "MINOR", "PATCH"):
        m = re.search(r"#define\s+%s_VER_%s\s+(\d+)" % (prefix, p), text)
        parts.append(m.group(1) if m else "?")
    return ".".join(parts)


def write(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %s (%d lines)" % (path, len(lines)))


def facts(header, source_desc, ver, java, fn_pattern):
    lines = ["# ABI facts distilled by native-bindings/src/test/tools/extract-abi.py: names, C types and",
             "# numbers only, no header text. Source: %s. Regenerate as README.md in this folder says." % source_desc,
             "header %s %s" % (source_desc.split(" ")[0], ver)]
    wanted = sorted(set(re.findall(r'"(%s)"' % fn_pattern, java)))
    missing = []
    used_types = set()
    for name in wanted:
        f = header.function(name)
        if f is None:
            missing.append(name)
            continue
        ret, params = f
        lines.append("function %s(%s) -> %s" % (name, ", ".join(params), ret))
        for t in params + [ret]:
            used_types.add(base_name(t))
    for t in sorted(used_types):
        if t in PRIMITIVE:
            continue
        k = header.kind(t)
        if k is None:
            raise SystemExit("type %s (used by a bound function) is not declared in the headers read" % t)
        lines.append("type %s %s" % (t, k))
    used_enums = set()
    for ident in set(re.findall(r"\b[A-Z][A-Z0-9_]+\b", java)):
        if ident in header.enumerator and header.enumerator[ident][0] in header.own_enums:
            used_enums.add(header.enumerator[ident][0])
    for e in sorted(used_enums):
        for ident, val in header.enums[e]:
            lines.append("enum %s %s = %d" % (e, ident, val))
    for name in missing:
        print("warning: %s is named in the Java sources but not declared in %s" % (name, source_desc), file=sys.stderr)
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--include", required=True, help="folder holding cublas_api.h, cusparse.h, library_types.h")
    ap.add_argument("--java", default=os.path.join(MODULE, "src", "main", "java"))
    ap.add_argument("--out", default=os.path.join(MODULE, "src", "test", "resources", "abi"))
    a = ap.parse_args()
    inc = lambda f: os.path.join(a.include, f)
    java = java_sources(a.java)
    os.makedirs(a.out, exist_ok=True)

    common = Header()
    common.read(inc("driver_types.h"))
    common.read(inc("library_types.h"), own=True)

    # library_types.h: the cudaDataType_t values every library takes
    lt = facts(common, "library_types.h (CUDA 12.4)", "12.4", java, r"$^")
    write(os.path.join(a.out, "library_types-12.4.txt"), lt)

    cublas = Header()
    for f in ("driver_types.h", "library_types.h"):
        cublas.read(inc(f))
    cublas.read(inc("cublas_api.h"), own=True)
    raw = open(inc("cublas_api.h"), encoding="utf-8").read()
    ver = version(raw, "CUBLAS")
    cb = facts(cublas, "cublas_api.h (cuBLAS %s, CUDA 12.4)" % ver, ver, java, r"cublas\w+")
    for m in re.finditer(r"#define\s+(cublas\w+)\s+(cublas\w+_v2)\b", open(inc("cublas_v2.h"), encoding="utf-8").read()):
        if re.search(r'"%s"' % re.escape(m.group(2)), java) or re.search(r'"%s"' % re.escape(m.group(1)), java):
            cb.append("alias %s = %s" % (m.group(1), m.group(2)))
    write(os.path.join(a.out, "cublas-12.4.txt"), cb)

    cusparse = Header()
    for f in ("driver_types.h", "library_types.h"):
        cusparse.read(inc(f))
    cusparse.read(inc("cusparse.h"), own=True)
    raw = open(inc("cusparse.h"), encoding="utf-8").read()
    ver = version(raw, "CUSPARSE")
    cs = facts(cusparse, "cusparse.h (cuSPARSE %s, CUDA 12.4)" % ver, ver, java, r"cusparse(?!Lt)\w+")
    write(os.path.join(a.out, "cusparse-12.4.txt"), cs)


if __name__ == "__main__":
    main()
