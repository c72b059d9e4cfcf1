package dev.shears.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * The values of a repeatable pattern option such as {@code --params}, each a comma-separated list:
 * a comma separates patterns only outside {@code {}}, {@code []} and {@code ()}, so a regular
 * expression's own commas ({@code conv\d{1,2}/kernel}, {@code [,;]}) stay in their pattern and
 * {@code fc1/kernel,fc2/kernel} is still two names. A backslash keeps the character after it
 * (an escaped bracket {@code \[} opens nothing; {@code \,} is a literal comma, left for the regex).
 * picocli's own {@code split} would cut a quantifier in two, hence this.
 */
final class PatternList {
    private PatternList() {}

    /** Every value split at its top-level commas, in order; an empty piece stays (the caller names it). */
    static List<String> split(List<String> values) {
        List<String> out = new ArrayList<>();
        for (String v : values) out.addAll(split(v));
        return out;
    }

    /** {@code value} split at the commas outside any bracket; unbalanced brackets split nothing after them (the regex then fails, naming itself). */
    static List<String> split(String value) {
        List<String> out = new ArrayList<>();
        int depth = 0, start = 0;
        boolean inClass = false; // inside [...]: brackets there are literal characters, as in java.util.regex
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\') { i++; continue; }
            if (inClass) { if (c == ']') { inClass = false; depth--; } continue; }
            switch (c) {
                case '[' -> { inClass = true; depth++; }
                case '{', '(' -> depth++;
                case '}', ')' -> depth = Math.max(0, depth - 1);
                case ',' -> {
                    if (depth == 0) { out.add(value.substring(start, i)); start = i + 1; }
                }
                default -> { }
            }
        }
        out.add(value.substring(start));
        return out;
    }
}
