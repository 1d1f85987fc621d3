package io.reel.ops;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The little JSON the ops module needs: a writer for {@code /health}, {@code /api/stats} and the CLI's
 * {@code --json} output, and a strict parser (RFC 8259) to check what a user passes as JSON event data.
 * Parsed values are {@code Map<String, Object>} (insertion-ordered), {@code List<Object>}, {@code String},
 * {@code Double} or {@code Long}, {@code Boolean} and {@code null}.
 */
final class Json {
    private Json() {
    }

    /** Builds one JSON value; not thread-safe, use one per document. */
    static final class Writer {
        private final StringBuilder out = new StringBuilder(256);
        /** Per open container: true until its first member is written. */
        private final List<Boolean> first = new ArrayList<>();
        private boolean afterName;

        Writer beginObject() {
            separate();
            out.append('{');
            first.add(true);
            return this;
        }

        Writer endObject() {
            first.remove(first.size() - 1);
            out.append('}');
            return this;
        }

        Writer beginArray() {
            separate();
            out.append('[');
            first.add(true);
            return this;
        }

        Writer endArray() {
            first.remove(first.size() - 1);
            out.append(']');
            return this;
        }

        Writer name(String name) {
            separate();
            string(name);
            out.append(':');
            afterName = true;
            return this;
        }

        Writer value(String value) {
            separate();
            if (value == null) {
                out.append("null");
            } else {
                string(value);
            }
            return this;
        }

        Writer value(long value) {
            separate();
            out.append(value);
            return this;
        }

        Writer value(double value) {
            separate();
            if (Double.isNaN(value) || Double.isInfinite(value)) {
                out.append("null");
            } else if (value == Math.rint(value) && Math.abs(value) < 1e15) {
                out.append((long) value);
            } else {
                out.append(value);
            }
            return this;
        }

        Writer value(boolean value) {
            separate();
            out.append(value);
            return this;
        }

        /** Inserts already-encoded JSON (e.g. a projection's state) as the next value. */
        Writer raw(String json) {
            separate();
            out.append(json);
            return this;
        }

        Writer field(String name, String value) {
            return name(name).value(value);
        }

        Writer field(String name, long value) {
            return name(name).value(value);
        }

        Writer field(String name, double value) {
            return name(name).value(value);
        }

        Writer field(String name, boolean value) {
            return name(name).value(value);
        }

        private void separate() {
            if (afterName) {
                afterName = false;
                return;
            }
            int depth = first.size();
            if (depth > 0) {
                if (first.get(depth - 1)) {
                    first.set(depth - 1, false);
                } else {
                    out.append(',');
                }
            }
        }

        private void string(String s) {
            out.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    case '<' -> out.append("\\u003c");
                    default -> {
                        if (c < 0x20) {
                            out.append(String.format("\\u%04x", (int) c));
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            out.append('"');
        }

        @Override
        public String toString() {
            return out.toString();
        }
    }

    /**
     * Parses one JSON document.
     *
     * @throws IllegalArgumentException naming the offset and what was expected there
     */
    static Object parse(String text) {
        Parser p = new Parser(text);
        p.skipSpace();
        Object value = p.value();
        p.skipSpace();
        if (p.at < text.length()) {
            throw p.error("unexpected text after the JSON value");
        }
        return value;
    }

    private static final class Parser {
        private final String s;
        private int at;

        Parser(String s) {
            this.s = s;
        }

        Object value() {
            if (at >= s.length()) {
                throw error("expected a value but the text ended");
            }
            char c = s.charAt(at);
            return switch (c) {
                case '{' -> object();
                case '[' -> array();
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        yield number();
                    }
                    throw error("unexpected character '" + c + "'");
                }
            };
        }

        private Map<String, Object> object() {
            Map<String, Object> map = new LinkedHashMap<>();
            at++;
            skipSpace();
            if (peek() == '}') {
                at++;
                return map;
            }
            while (true) {
                skipSpace();
                if (peek() != '"') {
                    throw error("expected a member name in double quotes");
                }
                String name = string();
                skipSpace();
                expect(':');
                skipSpace();
                map.put(name, value());
                skipSpace();
                char c = peek();
                at++;
                if (c == '}') {
                    return map;
                }
                if (c != ',') {
                    at--;
                    throw error("expected ',' or '}'");
                }
            }
        }

        private List<Object> array() {
            List<Object> list = new ArrayList<>();
            at++;
            skipSpace();
            if (peek() == ']') {
                at++;
                return list;
            }
            while (true) {
                skipSpace();
                list.add(value());
                skipSpace();
                char c = peek();
                at++;
                if (c == ']') {
                    return list;
                }
                if (c != ',') {
                    at--;
                    throw error("expected ',' or ']'");
                }
            }
        }

        private String string() {
            StringBuilder b = new StringBuilder();
            at++;
            while (true) {
                if (at >= s.length()) {
                    throw error("a string is not closed");
                }
                char c = s.charAt(at++);
                if (c == '"') {
                    return b.toString();
                }
                if (c < 0x20) {
                    at--;
                    throw error("a control character must be escaped in a string");
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = at < s.length() ? s.charAt(at++) : 0;
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        if (at + 4 > s.length()) {
                            throw error("a \\u escape needs four hex digits");
                        }
                        try {
                            b.append((char) Integer.parseInt(s.substring(at, at + 4), 16));
                        } catch (NumberFormatException ex) {
                            throw error("a \\u escape needs four hex digits");
                        }
                        at += 4;
                    }
                    default -> throw error("unknown escape '\\" + e + "'");
                }
            }
        }

        private Object number() {
            int start = at;
            if (peek() == '-') {
                at++;
            }
            digits();
            boolean integral = true;
            if (peek() == '.') {
                integral = false;
                at++;
                digits();
            }
            if (peek() == 'e' || peek() == 'E') {
                integral = false;
                at++;
                if (peek() == '+' || peek() == '-') {
                    at++;
                }
                digits();
            }
            String text = s.substring(start, at);
            if (integral) {
                try {
                    return Long.parseLong(text);
                } catch (NumberFormatException tooBig) {
                    return Double.parseDouble(text);
                }
            }
            return Double.parseDouble(text);
        }

        private void digits() {
            int start = at;
            while (at < s.length() && Character.isDigit(s.charAt(at))) {
                at++;
            }
            if (at == start) {
                throw error("expected a digit");
            }
        }

        private Object literal(String word, Object value) {
            if (!s.startsWith(word, at)) {
                throw error("expected '" + word + "'");
            }
            at += word.length();
            return value;
        }

        private void expect(char c) {
            if (peek() != c) {
                throw error("expected '" + c + "'");
            }
            at++;
        }

        private char peek() {
            return at < s.length() ? s.charAt(at) : 0;
        }

        void skipSpace() {
            while (at < s.length()) {
                char c = s.charAt(at);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    return;
                }
                at++;
            }
        }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException("not valid JSON at offset " + at + ": " + what);
        }
    }
}
