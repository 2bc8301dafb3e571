package maillage.neo4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.QueryExecutionException;

/**
 * Starts Neo4j Community as an embedded DBMS with the Bolt connector on 127.0.0.1 and blocks
 * until SIGTERM/SIGINT, when it shuts the DBMS down cleanly.
 *
 * <p>Configuration comes from the environment so that the password never appears on a command
 * line: MAILLAGE_NEO4J_HOME (data and logs), MAILLAGE_NEO4J_PORT (Bolt, default 7687),
 * NEO4J_PASSWORD (required, at least 8 characters), MAILLAGE_NEO4J_PAGECACHE (bytes,
 * default 268435456).
 */
public final class Launcher {

    private Launcher() {
    }

    public static void main(String[] args) {
        Map<String, String> env = System.getenv();
        Path home = Path.of(env.getOrDefault("MAILLAGE_NEO4J_HOME", ".neo4j")).toAbsolutePath();
        int port = Integer.parseInt(env.getOrDefault("MAILLAGE_NEO4J_PORT", "7687"));
        long pageCache = Long.parseLong(env.getOrDefault("MAILLAGE_NEO4J_PAGECACHE", "268435456"));
        String password = env.get("NEO4J_PASSWORD");
        if (password == null || password.length() < 8) {
            System.err.println("maillage-neo4j: NEO4J_PASSWORD must be set to at least 8 characters");
            System.exit(2);
        }

        DatabaseManagementService dbms;
        try {
            Files.createDirectories(home.resolve("import"));
            SocketAddress address = new SocketAddress("127.0.0.1", port);
            dbms = new DatabaseManagementServiceBuilder(home)
                    .setConfig(BoltConnector.enabled, true)
                    .setConfig(BoltConnector.listen_address, address)
                    // Neo4j advertises 7687 whatever the listen port unless told; a wrong
                    // advertised address breaks neo4j:// routing for the Python driver.
                    .setConfig(BoltConnector.advertised_address, address)
                    .setConfig(HttpConnector.enabled, false)
                    .setConfig(HttpsConnector.enabled, false)
                    .setConfig(GraphDatabaseSettings.auth_enabled, true)
                    .setConfig(GraphDatabaseSettings.pagecache_memory, pageCache)
                    .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                    // LOAD CSV FROM 'file:///...' resolves inside this folder only, never
                    // anywhere on the machine (embedded Neo4j has no import root by default).
                    .setConfig(GraphDatabaseSettings.load_csv_file_url_root, home.resolve("import"))
                    .build();
        } catch (Throwable err) {
            System.err.println("maillage-neo4j: failed to start: " + err);
            err.printStackTrace();
            // Neo4j's own threads would keep the JVM alive after a failed start.
            System.exit(1);
            return;
        }

        final DatabaseManagementService service = dbms;
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("maillage-neo4j: shutting down");
            service.shutdown();
            System.out.println("maillage-neo4j: stopped");
            stopped.countDown();
        }, "maillage-neo4j-shutdown"));

        try {
            setPassword(service.database("system"), password);
            GraphDatabaseService db = service.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
            db.executeTransactionally("RETURN 1");
        } catch (Throwable err) {
            System.err.println("maillage-neo4j: started but not usable: " + err);
            err.printStackTrace();
            System.exit(1);
        }
        System.out.println("maillage-neo4j ready bolt://127.0.0.1:" + port);
        System.out.flush();

        try {
            stopped.await();
        } catch (InterruptedException err) {
            Thread.currentThread().interrupt();
        }
    }

    private static void setPassword(GraphDatabaseService system, String password) {
        try {
            system.executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
        } catch (QueryExecutionException err) {
            // Neo4j refuses to "change" a password to its current value: nothing to do then.
            if (err.getMessage() == null || !err.getMessage().contains("Old password and new password cannot be the same")) {
                throw err;
            }
        }
    }
}
