package statetech.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.internal.helpers.HostnamePort;
import org.neo4j.io.ByteUnit;
import org.neo4j.kernel.internal.GraphDatabaseAPI;

/**
 * Runs an embedded Neo4j Community DBMS that is reachable only over Bolt on 127.0.0.1,
 * for statetech's integration tests and CI (driven by tests/neo4j_server.py).
 *
 * <pre>
 * java -cp "target/neo4j-launcher.jar:target/lib/*" statetech.testing.Neo4jLauncher
 *      [--port N] [--data DIR] [--delete-data-on-exit] [--password PW] [--pagecache SIZE_MB]
 *      [--ignore-stdin]
 * </pre>
 *
 * Prints exactly one line {@code STATETECH_NEO4J_READY bolt://127.0.0.1:PORT} on stdout once
 * Bolt accepts connections, then runs until stdin reaches EOF or the JVM is asked to exit.
 * Watching stdin means the server dies with whoever started it, even if that parent is
 * SIGKILLed and never gets to clean up.
 */
public final class Neo4jLauncher {

    public static final String READY_PREFIX = "STATETECH_NEO4J_READY ";
    private static final String HOST = "127.0.0.1";

    private final Object lock = new Object();
    private DatabaseManagementService dbms;
    private boolean stopped;
    private Path homeToDelete;

    public static void main(String[] args) {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("Neo4jLauncher: " + e.getMessage());
            System.err.println(Options.USAGE);
            System.exit(2);
            return;
        }
        Neo4jLauncher launcher = new Neo4jLauncher();
        // Registered before start so that a SIGTERM during startup still ends in a clean shutdown
        // (the hook waits on the lock until start() has a DBMS to stop).
        Runtime.getRuntime().addShutdownHook(new Thread(launcher::stop, "statetech-neo4j-shutdown"));
        int port;
        try {
            port = launcher.start(options);
        } catch (Throwable t) {
            System.err.println("Neo4jLauncher: startup failed");
            t.printStackTrace(System.err);
            launcher.stop();
            System.exit(1);
            return;
        }
        System.out.println(READY_PREFIX + "bolt://" + HOST + ":" + port);
        System.out.flush();
        if (options.ignoreStdin) {
            sleepForever();
        } else {
            drainUntilEof(System.in);
            launcher.stop();
            System.exit(0);
        }
    }

    private int start(Options options) throws IOException {
        synchronized (lock) {
            if (stopped) {
                throw new IllegalStateException("shutdown requested before startup finished");
            }
            Path home;
            if (options.data != null) {
                home = options.data.toAbsolutePath();
                Files.createDirectories(home);
            } else {
                home = Files.createTempDirectory("statetech-neo4j-");
                homeToDelete = home;
            }

            long maxHeap = Runtime.getRuntime().maxMemory();
            DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(home)
                    // Anything that listens at all listens on loopback only.
                    .setConfig(GraphDatabaseSettings.default_listen_address, new SocketAddress(HOST))
                    .setConfig(GraphDatabaseSettings.default_advertised_address, new SocketAddress(HOST))
                    .setConfig(BoltConnector.enabled, true)
                    // Port 0 lets the kernel pick: no window in which another process can take a
                    // port we probed as free. The bound port is read back from ConnectorPortRegister.
                    .setConfig(BoltConnector.listen_address, new SocketAddress(HOST, options.port))
                    .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                    .setConfig(HttpConnector.enabled, false)
                    .setConfig(HttpsConnector.enabled, false)
                    // Usage-data reporting phones home; this machine has no route out anyway, and
                    // tests must not depend on or wait for outbound network.
                    .setConfig(GraphDatabaseSettings.udc_enabled, false)
                    .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(options.pagecacheMb))
                    .setConfig(GraphDatabaseSettings.pagecache_warmup_enabled, false)
                    // Bounds all transactions together below the heap, so a runaway test query is
                    // refused with Neo4j's MemoryPoolOutOfMemoryError (an ordinary query error) instead
                    // of a JVM OutOfMemoryError. 60% leaves room for query caches, Bolt buffers and GC.
                    .setConfig(GraphDatabaseSettings.memory_transaction_global_max_size, (long) (maxHeap * 0.6))
                    // Throwaway databases: do not preallocate 256 MiB transaction log files or keep
                    // old ones around, which only costs disk and startup time in CI.
                    .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                    .setConfig(GraphDatabaseSettings.keep_logical_logs, "false")
                    // Bolt's netty event loops otherwise idle for a 5 s "quiet period" each (boss and
                    // worker) before shutdown returns: 10 s added to every test session's teardown.
                    // Internal setting, so re-check it when moving off 5.26.
                    .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                    .setConfig(GraphDatabaseSettings.auth_enabled, options.password != null);
            if (options.password != null) {
                // Neo4j's default minimum of 8 characters is policy for real deployments, not tests.
                builder.setConfig(GraphDatabaseSettings.auth_minimum_password_length, 1);
            }
            dbms = builder.build();

            if (options.password != null) {
                // Embedded transactions run without a login, so the system database accepts this
                // even though the neo4j user still has its initial must-change password.
                dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                        "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", options.password));
            }

            GraphDatabaseAPI db = (GraphDatabaseAPI) dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
            HostnamePort bolt = db.getDependencyResolver()
                    .resolveDependency(ConnectorPortRegister.class)
                    .getLocalAddress(ConnectorType.BOLT);
            if (bolt == null) {
                throw new IllegalStateException("Bolt connector did not register a local address");
            }
            if (options.deleteDataOnExit) {
                // Only armed once startup succeeded: after a failed start the caller still wants
                // to read logs/debug.log. Done here rather than by the caller so the directory
                // goes away even when the caller is killed and only the stdin EOF reaches us.
                homeToDelete = home;
            }
            return bolt.getPort();
        }
    }

    private void stop() {
        synchronized (lock) {
            if (stopped) {
                return;
            }
            stopped = true;
            if (dbms != null) {
                try {
                    dbms.shutdown();
                } catch (Throwable t) {
                    System.err.println("Neo4jLauncher: shutdown failed");
                    t.printStackTrace(System.err);
                }
                dbms = null;
            }
            if (homeToDelete != null) {
                deleteRecursively(homeToDelete);
                homeToDelete = null;
            }
        }
    }

    private static void drainUntilEof(InputStream in) {
        byte[] buf = new byte[1024];
        try {
            while (in.read(buf) != -1) {
                // Input carries no commands; only its end matters.
            }
        } catch (IOException e) {
            // A broken stdin means the parent is gone, which is the same signal as EOF.
        }
    }

    private static void sleepForever() {
        while (true) {
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void deleteRecursively(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // Best effort: a leftover temp dir must not turn a clean shutdown into a failure.
                }
            });
        } catch (IOException ignored) {
            // Same as above.
        }
    }

    private static final class Options {
        static final String USAGE = "usage: Neo4jLauncher [--port N (0 = any free port)] [--data DIR]"
                + " [--delete-data-on-exit] [--password PW] [--pagecache SIZE_MB] [--ignore-stdin]";

        int port = 0;
        Path data;
        String password;
        long pagecacheMb = 256;
        boolean ignoreStdin;
        boolean deleteDataOnExit;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--port":
                        o.port = parseInt(a, value(args, ++i, a));
                        if (o.port < 0 || o.port > 65535) {
                            throw new IllegalArgumentException("--port out of range: " + o.port);
                        }
                        break;
                    case "--data":
                        o.data = Path.of(value(args, ++i, a));
                        break;
                    case "--password":
                        o.password = value(args, ++i, a);
                        if (o.password.isEmpty()) {
                            throw new IllegalArgumentException("--password must not be empty");
                        }
                        break;
                    case "--pagecache":
                        o.pagecacheMb = parseInt(a, value(args, ++i, a));
                        if (o.pagecacheMb < 8) {
                            throw new IllegalArgumentException("--pagecache must be at least 8 (MiB)");
                        }
                        break;
                    case "--delete-data-on-exit":
                        o.deleteDataOnExit = true;
                        break;
                    case "--ignore-stdin":
                        o.ignoreStdin = true;
                        break;
                    case "-h":
                    case "--help":
                        System.out.println(USAGE);
                        System.exit(0);
                        break;
                    default:
                        throw new IllegalArgumentException("unknown argument: " + a);
                }
            }
            return o;
        }

        private static String value(String[] args, int i, String flag) {
            if (i >= args.length) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            return args[i];
        }

        private static int parseInt(String flag, String s) {
            try {
                return Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(flag + " expects an integer, got " + s);
            }
        }
    }
}
