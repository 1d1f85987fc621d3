package io.reel.store;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;

/**
 * Which records a {@code $all} read or a subscription delivers.
 *
 * <p>A record passes when its stream passes <em>and</em> its type passes. A stream passes when no stream
 * criterion is set, or it starts with one of the prefixes, or the stream regex finds a match in it. A type
 * passes when no type criterion is set, or it is one of the event types, or the type regex finds a match in it.
 * Regexes are RE2 regexes (Java's syntax without backreferences and lookaround), matched in linear time and searched
 * with {@code find()}; anchor them with {@code ^...$} for a whole-name match. A filter comes from remote clients: a
 * backtracking regex could hold a reader thread for ever, so the prefixes and types are at most
 * {@value #MAX_CRITERIA} each and a regex at most {@value #MAX_REGEX_LENGTH} characters.
 */
public final class EventFilter {
    /** The most stream prefixes, and the most event types, a filter holds. */
    public static final int MAX_CRITERIA = 1_000;
    /** The longest regex a filter takes, in characters. */
    public static final int MAX_REGEX_LENGTH = 1_000;

    private static final EventFilter NONE = new EventFilter(List.of(), Set.of(), null, null);

    private final List<String> streamPrefixes;
    private final Set<String> eventTypes;
    private final Pattern streamRegex;
    private final Pattern typeRegex;

    private EventFilter(List<String> streamPrefixes, Set<String> eventTypes, Pattern streamRegex, Pattern typeRegex) {
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
        return streamRegex != null && streamRegex.matcher(stream).find();
    }

    private boolean matchesType(RecordedEvent record) {
        if (eventTypes.isEmpty() && typeRegex == null) {
            return true;
        }
        String type = record.type();
        return eventTypes.contains(type) || (typeRegex != null && typeRegex.matcher(type).find());
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
            return new EventFilter(List.copyOf(streamPrefixes), Set.copyOf(eventTypes),
                compile("filter.stream_regex", streamRegex), compile("filter.type_regex", typeRegex));
        }

        private static Pattern compile(String field, String regex) {
            if (regex == null || regex.isEmpty()) {
                return null;
            }
            if (regex.length() > MAX_REGEX_LENGTH) {
                throw ReelException.invalidArgument(field + " has " + regex.length() + " characters; the limit is " + MAX_REGEX_LENGTH);
            }
            try {
                return Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                throw ReelException.invalidArgument(field + " '" + regex + "' is not a valid RE2 regex (Java's syntax without"
                    + " backreferences and lookaround): " + e.getDescription());
            }
        }
    }
}
