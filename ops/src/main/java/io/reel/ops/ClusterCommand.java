package io.reel.ops;

import io.reel.proto.ClusterInfo;
import io.reel.proto.ClusterMember;
import io.reel.transport.ReelClient;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code reel cluster status}: a cluster's members as one node sees them. */
@Command(name = "cluster", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
    description = "Look at a Reel cluster.", subcommands = ClusterCommand.Status.class)
final class ClusterCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "give a cluster verb: status");
    }

    @Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
        description = {"Show the members of the cluster a node belongs to: id, role, Raft and RSocket addresses, head and last contact.",
            "The leader knows when it last heard from each follower; a follower knows when it last heard from the leader."},
        footer = {"", "Example:", "  reel cluster status --server 127.0.0.1:7070,127.0.0.1:7072"})
    static final class Status implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Override
        public Integer call() {
            ClusterInfo info;
            try (ReelClient c = client.open()) {
                info = client.explained(() -> c.clusterInfo().block(client.blockLimit()));
            }
            PrintWriter out = spec.commandLine().getOut();
            if (info == null || info.getMembersCount() == 1 && "STANDALONE".equals(info.getMembers(0).getRole())) {
                out.println("standalone server (not a cluster node)");
                out.flush();
                return ReelCommand.ExitCodes.OK;
            }
            out.printf("leader %s, term %d%n", info.getLeaderId().isEmpty() ? "(none)" : info.getLeaderId(), info.getTerm());
            out.printf("%-10s %-10s %-22s %-22s %-12s %-10s %-10s %-8s %s%n", "ID", "ROLE", "RAFT", "RSOCKET", "HEAD", "APPLIED", "MATCH", "LAG",
                "LAST CONTACT");
            for (ClusterMember m : info.getMembersList()) {
                out.printf("%-10s %-10s %-22s %-22s %-12s %-10s %-10s %-8s %s%n", m.getId(), m.getRole(), m.getRaft(),
                    m.getRsocket().isEmpty() ? "-" : m.getRsocket(),
                    m.getHead() == 0 && m.getLastContactMillis() != 0 ? "-" : String.valueOf(m.getHead()),
                    known(m.getAppliedIndex()), known(m.getMatchIndex()), known(m.getLagEntries()),
                    m.getLastContactMillis() < 0 ? "-" : m.getLastContactMillis() == 0 ? "this node" : m.getLastContactMillis() + " ms ago");
            }
            if (!info.getLeaderId().equals(info.getNodeId())) {
                out.println("(match index and lag are known by the leader: ask it for them)");
            }
            out.flush();
            return ReelCommand.ExitCodes.OK;
        }
    }

    /** -1 marks a figure the answering node does not know. */
    private static String known(long value) {
        return value < 0 ? "-" : String.valueOf(value);
    }
}
