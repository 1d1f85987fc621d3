package io.reel.store;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import java.util.function.Predicate;

/**
 * Which records a {@code $all} read or a subscription delivers.
 *
 * <p>A record passes when its stream passes <em>and</em> its type passes. A stream passes when no stream
 * criterion is set, or it starts with one of the prefixes, or the stream regex finds a match in it. A type
 * passes when no type criterion is set, or it is one of the event types, or the type regex finds a match in it.
 * Regexes are RE2 regexes (Java's syntax without backreferences and lookaround), matched in linear time and searched
 * with {@code find()}; anchor them with {@code ^...$} for a whole-name match. A filter comes from remote clients: a
 * backtracking regex could hold a reader thread for ever, so the prefixes and types are at most
 * {@value #MAX_CRITERIA} each, a regex at most {@value #MAX_REGEX_LENGTH} characters, and its counted repetitions
 * ({@code {n}}, {@code {n,m}}) multiply to at most {@value #MAX_REPEAT_PRODUCT} (RE2 unrolls them as it compiles).
 */
public final class EventFilter {
    /** The most stream prefixes, and the most event types, a filter holds. */
    public static final int MAX_CRITERIA = 1_000;
    /** The longest regex a filter takes, in characters. */
    public static final int MAX_REGEX_LENGTH = 1_000;
    /** The most the counted repetitions of a regex may multiply to. */
    public static final int MAX_REPEAT_PRODUCT = 1_000;

    private static final EventFilter NONE = new EventFilter(List.of(), Set.of(), null, null);

    private final List<String> streamPrefixes;
    private final Set<String> eventTypes;
    private final Regex streamRegex;
    private final Regex typeRegex;

    /** A compiled regex and its text: searched with RE2/J, or with java.util.regex for a stored filter RE2 refuses. */
    private record Regex(String pattern, Predicate<String> finds) {
    }

    private EventFilter(List<String> streamPrefixes, Set<String> eventTypes, Regex streamRegex, Regex typeRegex) {
        this.streamPrefixes = streamPrefixes;
        this.eventTypes = eventTypes;
        this.streamRegex = streamRegex;
        this.typeRegex = typeRegex;
    }

    /** Every record passes. */
    public static EventFilter none() {
        return NONE;
    }

    public static Builder builder() {
        return new Builder();
    }

    public boolean isNone() {
        return this == NONE || (streamPrefixes.isEmpty() && eventTypes.isEmpty() && streamRegex == null && typeRegex == null);
    }

    public boolean matches(RecordedEvent record) {
        return matchesStream(record) && matchesType(record);
    }

    private boolean matchesStream(RecordedEvent record) {
        if (streamPrefixes.isEmpty() && streamRegex == null) {
            return true;
        }
        String stream = record.stream();
        for (String prefix : streamPrefixes) {
            if (stream.startsWith(prefix)) {
                return true;
            }
        }
        return streamRegex != null && streamRegex.finds().test(stream);
    }

    private boolean matchesType(RecordedEvent record) {
        if (eventTypes.isEmpty() && typeRegex == null) {
            return true;
        }
        String type = record.type();
        return eventTypes.contains(type) || (typeRegex != null && typeRegex.finds().test(type));
    }

    public List<String> streamPrefixes() {
        return streamPrefixes;
    }

    public Set<String> eventTypes() {
        return eventTypes;
    }

    /** The stream regex, or null when none is set. */
    public String streamRegex() {
        return streamRegex == null ? null : streamRegex.pattern();
    }

    /** The type regex, or null when none is set. */
    public String typeRegex() {
        return typeRegex == null ? null : typeRegex.pattern();
    }

    @Override
    public String toString() {
        if (isNone()) {
            return "all";
        }
        List<String> parts = new ArrayList<>();
        if (!streamPrefixes.isEmpty()) {
            parts.add("streamPrefixes=" + streamPrefixes);
        }
        if (!eventTypes.isEmpty()) {
            parts.add("eventTypes=" + eventTypes);
        }
        if (streamRegex != null) {
            parts.add("streamRegex=" + streamRegex.pattern());
        }
        if (typeRegex != null) {
            parts.add("typeRegex=" + typeRegex.pattern());
        }
        return String.join(", ", parts);
    }

    /** Builds a filter; {@link #build()} fails with {@code INVALID_ARGUMENT} naming the field that is wrong. */
    public static final class Builder {
        private final List<String> streamPrefixes = new ArrayList<>();
        private final Set<String> eventTypes = new LinkedHashSet<>();
        private String streamRegex;
        private String typeRegex;

        private Builder() {
        }

        public Builder streamPrefix(String prefix) {
            streamPrefixes.add(prefix);
            return this;
        }

        public Builder streamPrefixes(Iterable<String> prefixes) {
            prefixes.forEach(streamPrefixes::add);
            return this;
        }

        public Builder eventType(String type) {
            eventTypes.add(type);
            return this;
        }

        public Builder eventTypes(Iterable<String> types) {
            types.forEach(eventTypes::add);
            return this;
        }

        /** A regex searched in the stream name; null or empty for none. */
        public Builder streamRegex(String regex) {
            streamRegex = regex;
            return this;
        }

        /** A regex searched in the event type; null or empty for none. */
        public Builder typeRegex(String regex) {
            typeRegex = regex;
            return this;
        }

        public EventFilter build() {
            if (streamPrefixes.size() > MAX_CRITERIA || eventTypes.size() > MAX_CRITERIA) {
                throw ReelException.invalidArgument("the filter has " + streamPrefixes.size() + " stream prefixes and " + eventTypes.size()
                    + " event types; the limit is " + MAX_CRITERIA + " of each: use a regex, or subscribe more than once");
            }
            checkCriteria();
            return new EventFilter(List.copyOf(streamPrefixes), Set.copyOf(eventTypes),
                compile("filter.stream_regex", streamRegex), compile("filter.type_regex", typeRegex));
        }

        /**
         * For a filter read back from the store's own files or a cluster's replicated log (a consumer group's): it was
         * accepted when it was written, so the limits of {@link #build()} do not apply, and a regex that RE2 refuses (one
         * written before filters moved to RE2, with lookaround or a backreference) is searched with {@code java.util.regex}
         * as it was then. Dropping such a group on upgrade would lose its checkpoint and parked events.
         */
        public EventFilter buildStored() {
            checkCriteria();
            return new EventFilter(List.copyOf(streamPrefixes), Set.copyOf(eventTypes),
                compileStored("filter.stream_regex", streamRegex), compileStored("filter.type_regex", typeRegex));
        }

        private void checkCriteria() {
            for (String prefix : streamPrefixes) {
                if (prefix == null || prefix.isEmpty()) {
                    throw ReelException.invalidArgument("filter.stream_prefixes contains an empty prefix; leave the list empty to match every stream");
                }
            }
            for (String type : eventTypes) {
                if (type == null || type.isEmpty()) {
                    throw ReelException.invalidArgument("filter.event_types contains an empty type; leave the set empty to match every type");
                }
            }
        }

        private static Regex compile(String field, String regex) {
            if (regex == null || regex.isEmpty()) {
                return null;
            }
            if (regex.length() > MAX_REGEX_LENGTH) {
                throw ReelException.invalidArgument(field + " has " + regex.length() + " characters; the limit is " + MAX_REGEX_LENGTH);
            }
            long product = repeatProduct(regex);
            if (product > MAX_REPEAT_PRODUCT) {
                throw ReelException.invalidArgument(field + " '" + regex + "' has counted repetitions that multiply to " + product
                    + "; the limit is " + MAX_REPEAT_PRODUCT + " (RE2 unrolls them): use + or * instead");
            }
            return re2(field, regex);
        }

        private static Regex re2(String field, String regex) {
            try {
                Pattern pattern = Pattern.compile(regex);
                return new Regex(regex, text -> pattern.matcher(text).find());
            } catch (PatternSyntaxException e) {
                throw ReelException.invalidArgument(field + " '" + regex + "' is not a valid RE2 regex (Java's syntax without"
                    + " backreferences and lookaround): " + e.getDescription());
            }
        }

        private static Regex compileStored(String field, String regex) {
            if (regex == null || regex.isEmpty()) {
                return null;
            }
            if (repeatProduct(regex) <= MAX_REPEAT_PRODUCT) {
                try {
                    return re2(field, regex);
                } catch (ReelException refused) {
                    // written before filters moved to RE2: searched as it was then
                }
            }
            try {
                java.util.regex.Pattern pattern = java.util.regex.Pattern.compile(regex);
                return new Regex(regex, text -> pattern.matcher(text).find());
            } catch (java.util.regex.PatternSyntaxException e) {
                throw ReelException.invalidArgument(field + " '" + regex + "' is not a valid regex: " + e.getDescription());
            }
        }

        /**
         * What the counted repetitions ({@code {n}}, {@code {n,}}, {@code {n,m}}) of {@code regex} multiply to, taking the
         * largest count of each, as though all were nested: an upper bound of how many times RE2 copies a piece of it.
         * Escapes, {@code \Q...\E} and character classes hold no repetitions.
         */
        static long repeatProduct(String regex) {
            long product = 1;
            int n = regex.length();
            for (int i = 0; i < n; i++) {
                char c = regex.charAt(i);
                if (c == '\\') {
                    if (i + 1 < n && regex.charAt(i + 1) == 'Q') {
                        int end = regex.indexOf("\\E", i + 2);
                        i = end < 0 ? n : end + 1;
                    } else {
                        i++;
                    }
                } else if (c == '[') {
                    int j = i + 1;
                    if (j < n && regex.charAt(j) == '^') {
                        j++;
                    }
                    if (j < n && regex.charAt(j) == ']') {
                        j++;
                    }
                    while (j < n && regex.charAt(j) != ']') {
                        j += regex.charAt(j) == '\\' ? 2 : 1;
                    }
                    i = j;
                } else if (c == '{') {
                    int close = regex.indexOf('}', i);
                    if (close > i) {
                        String body = regex.substring(i + 1, close);
                        if (body.matches("\\d+(,\\d*)?")) {
                            String[] counts = body.split(",", -1);
                            String largest = counts.length > 1 && !counts[1].isEmpty() ? counts[1] : counts[0];
                            long count = largest.length() > 9 ? Long.MAX_VALUE / 2 : Long.parseLong(largest);
                            count = Math.max(1, count);
                            product = product > (Long.MAX_VALUE / 2) / count ? Long.MAX_VALUE / 2 : product * count;
                            i = close;
                        }
                    }
                }
            }
            return product;
        }
    }
}
