/*
 * Runs de.bwaldvogel:mongo-java-server (in-memory backend) as the MongoDB test server for tests and
 * benchmarks. scripts/mongo.ts starts it as a single-file program:
 *   java -cp 'lib/*' MongoLauncher.java <port> [--no-oplog]
 *
 * Two things differ from the library's defaults, both needed by the `mongodb` npm driver 7.x:
 * - the reported server version: the library's newest (MONGO_5_0) answers hello with maxWireVersion 8,
 *   and the driver refuses servers below wire version 9 (MongoDB 4.4). This reports 6.0.0 / wire 17;
 * - the oplog is enabled, so collection-level change streams work (--no-oplog leaves it off: the
 *   in-memory oplog keeps every write, which a sink benchmark of a million upserts cannot afford).
 * Prints "READY <port>" once it listens; stops on SIGTERM.
 */
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.util.List;

public class MongoLauncher {
  public static void main(String[] args) throws Exception {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 27117;
    MongoVersion version = new MongoVersion() {
      @Override
      public List<Integer> getVersionArray() {
        return List.of(6, 0, 0);
      }

      @Override
      public int getWireVersion() {
        return 17;
      }
    };
    MemoryBackend backend = new MemoryBackend();
    backend.version(version);
    MongoServer server = new MongoServer(backend);
    if (args.length < 2 || !args[1].equals("--no-oplog")) {
      server.enableOplog();
    }
    server.bind("127.0.0.1", port);
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
    System.out.println("READY " + port);
    System.out.flush();
    Thread.currentThread().join();
  }
}
