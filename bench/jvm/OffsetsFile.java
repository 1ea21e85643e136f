// Reads and writes Kafka Connect's standalone offsets file (FileOffsetBackingStore: a Java-serialized
// HashMap<byte[], byte[]> of JsonConverter-encoded partition keys and offsets), for the CDC
// incremental-snapshot capture (bench/cdc-incremental-capture.ts). Single-file launch, no dependencies:
//   java OffsetsFile.java read <file>    prints `key<TAB>value` lines (JSON texts)
//   java OffsetsFile.java write <file>   writes the `key<TAB>value` lines read from stdin
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;

public class OffsetsFile {
  @SuppressWarnings("unchecked")
  public static void main(String[] args) throws Exception {
    File file = new File(args[1]);
    if (args[0].equals("read")) {
      try (ObjectInputStream in = new ObjectInputStream(new FileInputStream(file))) {
        Map<byte[], byte[]> raw = (Map<byte[], byte[]>) in.readObject();
        for (Map.Entry<byte[], byte[]> e : raw.entrySet()) {
          String value = e.getValue() == null ? "null" : new String(e.getValue(), StandardCharsets.UTF_8);
          System.out.println(new String(e.getKey(), StandardCharsets.UTF_8) + "\t" + value);
        }
      }
    } else {
      Map<byte[], byte[]> raw = new HashMap<>();
      BufferedReader lines = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        if (line.isEmpty()) continue;
        int tab = line.indexOf('\t');
        raw.put(line.substring(0, tab).getBytes(StandardCharsets.UTF_8), line.substring(tab + 1).getBytes(StandardCharsets.UTF_8));
      }
      try (ObjectOutputStream out = new ObjectOutputStream(new FileOutputStream(file))) {
        out.writeObject(raw);
      }
    }
  }
}
