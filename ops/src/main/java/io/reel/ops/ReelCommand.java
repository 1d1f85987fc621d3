package io.reel.ops;

import io.reel.store.EventStore;
import io.reel.store.ReelException;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code reel} command line: {@code java -jar reel.jar <verb>}. One verb per class ({@code *Command});
 * this class only gathers them, maps failures to exit codes and prints errors as {@code error: CODE: sentence}.
 *
 * <p>Exit codes are part of the contract (scripts and the tests rely on them):
 * <ul>
 *   <li>{@value ExitCodes#OK} success (for {@code server}: stopped by SIGTERM or SIGINT after a clean shutdown);</li>
 *   <li>{@value ExitCodes#DAMAGE} {@code verify} found damage;</li>
 *   <li>{@value ExitCodes#USAGE} the command line does not parse (unknown verb or flag, a value of the wrong form);</li>
 *   <li>{@value ExitCodes#FAILED} the command failed: the message says why and what to do (data directory
 *       locked, port in use, server unreachable, append rejected, I/O error, a value that parses but is refused
 *       with {@code INVALID_ARGUMENT}).</li>
 * </ul>
 */
@Command(name = "reel", mixinStandardHelpOptions = true, versionProvider = ReelCommand.Version.class,
    description = "Reel: an event store on plain files. Run a server, administer a data directory, or talk to a server.",
    subcommands = {ServerCommand.class, VerifyCommand.class, BackupCommand.class, RestoreCommand.class, ScavengeCommand.class,
        StatsCommand.class, AppendCommand.class, ReadCommand.class, TailCommand.class, StreamsCommand.class, BenchCommand.class, ClusterCommand.class,
        CommandLine.HelpCommand.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "1:verify found damage", "2:invalid command line (unknown verb or flag, bad value)",
        "3:the command failed; the message says why and what to do"},
    footer = {"", "Run 'reel <verb> --help' for the flags of a verb."})
public final class ReelCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        commonPoolOfTwoAtLeast();
        System.exit(execute(args));
    }

    /**
     * On a machine with fewer than three cores the JDK's common pool has one thread or none, and CompletableFuture's
     * async steps then run on a new thread each: Ratis' append path takes such steps per entry, so a cluster node
     * started about 75 threads a second under load and spent a third of a core compiling for them. Must run before
     * anything touches the common pool; an explicit {@code -Djava.util.concurrent.ForkJoinPool.common.parallelism} wins.
     */
    static void commonPoolOfTwoAtLeast() {
        String key = "java.util.concurrent.ForkJoinPool.common.parallelism";
        if (System.getProperty(key) == null && Runtime.getRuntime().availableProcessors() < 3) {
            System.setProperty(key, "2");
        }
    }

    /** Runs the command line and returns its exit code (the tests call this in process). */
    static int execute(String... args) {
        return commandLine(System.getenv(), args).execute(args);
    }

    static CommandLine commandLine() {
        return commandLine(Map.of(), new String[0]);
    }

    /**
     * The command line for {@code args}, with {@code env} as the environment: {@code reel server} takes the flags
     * it is not given from {@code REEL_*} variables, then from its {@code --config} file ({@link ServerDefaults}).
     */
    static CommandLine commandLine(Map<String, String> env, String... args) {
        CommandLine cli = new CommandLine(new ReelCommand());
        cli.getSubcommands().get("server").setDefaultValueProvider(ServerDefaults.forArgs(env, List.of(args)));
        cli.setExecutionExceptionHandler(ReelCommand::handleFailure);
        cli.setParameterExceptionHandler(ReelCommand::handleUsageError);
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        return cli;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    private static int handleFailure(Exception e, CommandLine cli, CommandLine.ParseResult parseResult) {
        PrintWriter err = cli.getErr();
        err.println("error: " + describe(e));
        err.flush();
        return ExitCodes.FAILED;
    }

    private static int handleUsageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cli = e.getCommandLine();
        PrintWriter err = cli.getErr();
        err.println("error: " + e.getMessage());
        if (!CommandLine.UnmatchedArgumentException.printSuggestions(e, err)) {
            err.println("Run '" + cli.getCommandSpec().qualifiedName() + " --help' for the verbs and flags.");
        }
        err.flush();
        return ExitCodes.USAGE;
    }

    /** The message a user reads: {@code CODE: sentence} for our errors, the exception's text otherwise. */
    static String describe(Throwable e) {
        if (e instanceof ReelException r) {
            return r.getMessage();
        }
        if (e instanceof java.io.UncheckedIOException || e instanceof java.io.IOException) {
            Throwable io = e instanceof java.io.UncheckedIOException u ? u.getCause() : e;
            String what = io instanceof java.nio.file.NoSuchFileException ? "no such file or directory: " + io.getMessage()
                : io instanceof java.nio.file.AccessDeniedException ? "permission denied: " + io.getMessage() : String.valueOf(io);
            return "IO_ERROR: " + (e.getMessage() != null && e != io ? e.getMessage() + ": " : "") + what;
        }
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t && !(t instanceof ReelException)) {
            t = t.getCause();
        }
        if (t instanceof ReelException r) {
            return r.getMessage();
        }
        String text = e.getMessage() == null ? e.toString() : e.getMessage();
        return "INTERNAL: " + text + " (" + e.getClass().getName() + "); this is a bug in Reel, please report it";
    }

    /** Exit codes of every verb. */
    static final class ExitCodes {
        static final int OK = 0;
        static final int DAMAGE = 1;
        static final int USAGE = 2;
        static final int FAILED = 3;

        private ExitCodes() {
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"reel " + EventStore.VERSION + " (Java " + Runtime.version() + ")"};
        }
    }
}
