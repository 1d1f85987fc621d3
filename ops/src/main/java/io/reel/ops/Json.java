package io.reel.ops;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.ToNumberPolicy;
import com.google.gson.stream.JsonReader;
import java.io.StringReader;

/**
 * The Gson set-up of the ops module: {@code /health}, {@code /api/stats}, the CLI's {@code --json} output, and a
 * strict (RFC 8259) check of what a user passes as JSON event data. Objects are written from insertion-ordered
 * maps; parsed values are maps, lists, strings, {@code Long} (integers) or {@code Double}, booleans and null.
 */
final class Json {
    static final Gson GSON = new GsonBuilder()
        .disableHtmlEscaping()
        .serializeNulls()
        .setStrictness(Strictness.STRICT)
        .setObjectToNumberStrategy(ToNumberPolicy.LONG_OR_DOUBLE)
        .create();

    private Json() {
    }

    /** One line of compact JSON. */
    static String write(Object tree) {
        return GSON.toJson(tree);
    }

    /**
     * Parses one JSON document into plain maps, lists and values.
     *
     * @throws IllegalArgumentException starting "not valid JSON" and naming where
     */
    static Object parse(String text) {
        return GSON.fromJson(element(text), Object.class);
    }

    /** Parses one JSON document, strictly, as a Gson tree. */
    static JsonElement element(String text) {
        if (text.isBlank()) {
            throw new IllegalArgumentException("not valid JSON: expected a value but the text is empty");
        }
        try {
            JsonReader reader = new JsonReader(new StringReader(text));
            reader.setStrictness(Strictness.STRICT);
            JsonElement element = JsonParser.parseReader(reader);
            if (reader.peek() != com.google.gson.stream.JsonToken.END_DOCUMENT) {
                throw new JsonParseException("unexpected text after the JSON value at " + reader.getPath());
            }
            return element;
        } catch (JsonParseException | java.io.IOException | IllegalStateException e) {
            throw new IllegalArgumentException("not valid JSON: " + (e.getMessage() == null ? e.toString() : e.getMessage()), e);
        }
    }
}
