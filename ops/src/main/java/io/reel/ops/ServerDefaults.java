package io.reel.ops;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Where {@code reel server} takes a flag's value when the command line does not give it: an environment
 * variable {@code REEL_<FLAG>} ({@code --segment-size} → {@code REEL_SEGMENT_SIZE}), then the properties file of
 * {@code --config FILE} (or {@code REEL_CONFIG}) with the flag's name as key ({@code segment-size=1m}), then the
 * flag's own default. Precedence is therefore flag > environment > file > default.
 *
 * <p>picocli's default-value provider does the lookup; this class also remembers where each value came from,
 * so the server can print its effective settings, and checks the file for keys that are not flags.
 */
final class ServerDefaults implements CommandLine.IDefaultValueProvider {
    static final String ENV_PREFIX = "REEL_";
    /** Flags whose values are secrets: printed masked. (Tokens and TLS keys are given as files: their paths are shown, never their contents.) */
    private static final Pattern SECRET = Pattern.compile("password|secret|token$|credential", Pattern.CASE_INSENSITIVE);

    private final Map<String, String> env;
    private final Path file;
    private final Properties properties;
    private final ReelException problem;
    private final Map<String, String> sources = new LinkedHashMap<>();

    private ServerDefaults(Map<String, String> env, Path file, Properties properties, ReelException problem) {
        this.env = env;
        this.file = file;
        this.properties = properties;
        this.problem = problem;
    }

    /** The defaults for {@code args} (the verb's arguments): finds {@code --config} among them, else {@code REEL_CONFIG}. */
    static ServerDefaults forArgs(Map<String, String> env, List<String> args) {
        String config = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--config") && i + 1 < args.size()) {
                config = args.get(i + 1);
            } else if (a.startsWith("--config=")) {
                config = a.substring("--config=".length());
            }
        }
        if (config == null) {
            config = env.get(ENV_PREFIX + "CONFIG");
        }
        if (config == null) {
            return new ServerDefaults(env, null, new Properties(), null);
        }
        Path path = Path.of(config);
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            properties.load(reader);
            return new ServerDefaults(env, path, properties, null);
        } catch (IOException | IllegalArgumentException e) {
            return new ServerDefaults(env, path, properties, new ReelException(ErrorCode.INVALID_ARGUMENT, "the config file "
                + path.toAbsolutePath() + " cannot be read (" + e.getMessage() + "); give a properties file of 'flag-name=value' lines (--config)"));
        }
    }

    static String envName(OptionSpec option) {
        return ENV_PREFIX + key(option).toUpperCase(Locale.ROOT).replace('-', '_');
    }

    static String key(OptionSpec option) {
        return option.longestName().replaceFirst("^-+", "");
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec option) || option.usageHelp() || option.versionHelp() || key(option).equals("config")) {
            return null;
        }
        String fromEnv = env.get(envName(option));
        if (fromEnv != null) {
            sources.put(key(option), "environment " + envName(option));
            return fromEnv;
        }
        String fromFile = properties.getProperty(key(option));
        if (fromFile != null) {
            sources.put(key(option), "file " + file);
            return fromFile.trim();
        }
        sources.remove(key(option));
        return null;
    }

    /** Fails with {@code INVALID_ARGUMENT} when the config file cannot be read or names a setting that is no flag of the verb. */
    void check(CommandLine.Model.CommandSpec spec) {
        if (problem != null) {
            throw problem;
        }
        TreeSet<String> known = new TreeSet<>();
        for (OptionSpec o : spec.options()) {
            if (!o.usageHelp() && !o.versionHelp() && !key(o).equals("config")) {
                known.add(key(o));
            }
        }
        for (String name : properties.stringPropertyNames()) {
            if (!known.contains(name)) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, "the config file " + file + " sets '" + name + "', which is not a setting of 'reel "
                    + spec.name() + "'; the keys are the flags without their dashes: " + String.join(", ", known));
            }
        }
    }

    /**
     * One line per flag: name, value as given (masked for secrets) and where it came from, {@code flag},
     * {@code environment REEL_X}, {@code file PATH} or {@code default}.
     */
    List<String> effectiveSettings(CommandLine.Model.CommandSpec spec, CommandLine.ParseResult parsed) {
        List<String> lines = new ArrayList<>();
        for (OptionSpec o : spec.options()) {
            if (o.usageHelp() || o.versionHelp()) {
                continue;
            }
            String name = key(o);
            String value;
            String source;
            if (parsed.hasMatchedOption(o)) {
                List<String> given = parsed.matchedOption(o.longestName()).originalStringValues();
                value = o.arity().max() == 0 ? "true" : given.isEmpty() ? "" : given.get(given.size() - 1);
                source = "flag";
            } else if (sources.containsKey(name)) {
                value = defaultValue(o);
                source = sources.get(name);
            } else {
                value = o.defaultValue() != null ? o.defaultValue() : o.arity().max() == 0 ? "false" : "(none)";
                source = "default";
            }
            if (SECRET.matcher(name).find() && !"(none)".equals(value)) {
                value = "****";
            }
            lines.add(String.format(Locale.ROOT, "  %-22s %-28s (%s)", name, value, source));
        }
        return lines;
    }
}
