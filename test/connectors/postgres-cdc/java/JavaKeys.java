// Real-Java check of Sluice's incremental-snapshot keys (src/connectors/postgres-cdc/java-serialization.ts),
// run as a single-file program: `java -Duser.timezone=UTC JavaKeys.java encode|decode < lines`.
// encode: each line is a key spec `Type:value|Type:value` (or `null`); prints the hex of the
//   ObjectOutputStream of the Object[] built from it, as Debezium's AbstractIncrementalSnapshotContext does.
// decode: each line is such hex; prints the spec of what ObjectInputStream reads back.
// hashmap: each line is keys (base64 of UTF-8, `|`-separated); prints them in the order a HashMap
//   filled with them iterates (the order Debezium writes hstore values in).
import java.io.*;
import java.math.*;
import java.util.*;

public class JavaKeys {
  static Object element(String spec) {
    if (spec.equals("null")) return null;
    int colon = spec.indexOf(':');
    String type = spec.substring(0, colon), v = spec.substring(colon + 1);
    switch (type) {
      case "Integer": return Integer.valueOf(v);
      case "Long": return Long.valueOf(v);
      case "Short": return Short.valueOf(v);
      case "Boolean": return Boolean.valueOf(v);
      case "Double": return Double.valueOf(v);
      case "Float": return Float.valueOf(v);
      case "BigDecimal": return new BigDecimal(v);
      case "BigInteger": return new BigInteger(v);
      case "UUID": return UUID.fromString(v);
      case "Date": return java.sql.Date.valueOf(v);
      case "String": return new String(Base64.getDecoder().decode(v), java.nio.charset.StandardCharsets.UTF_8);
      default: throw new IllegalArgumentException(type);
    }
  }

  static String spec(Object o) {
    if (o == null) return "null";
    String type = o.getClass().getSimpleName();
    if (o instanceof BigDecimal d) return "BigDecimal:" + d.toPlainString();
    if (o instanceof String s) return "String:" + Base64.getEncoder().encodeToString(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return type + ":" + o;
  }

  public static void main(String[] args) throws Exception {
    BufferedReader lines = new BufferedReader(new InputStreamReader(System.in));
    for (String line = lines.readLine(); line != null; line = lines.readLine()) {
      if (args[0].equals("hashmap")) {
        Map<String, String> map = new HashMap<>();
        for (String k : line.split("\\|", -1)) {
          map.put(new String(Base64.getDecoder().decode(k), java.nio.charset.StandardCharsets.UTF_8), k);
        }
        System.out.println(String.join("|", map.values()));
        continue;
      }
      if (args[0].equals("encode")) {
        Object[] key = null;
        if (!line.equals("null")) {
          String[] parts = line.split("\\|", -1);
          key = new Object[parts.length];
          for (int j = 0; j < parts.length; j++) key[j] = element(parts[j]);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) { out.writeObject(key); }
        System.out.println(HexFormat.of().formatHex(bytes.toByteArray()));
      } else {
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(HexFormat.of().parseHex(line)))) {
          Object[] key = (Object[]) in.readObject();
          if (key == null) { System.out.println("null"); continue; }
          StringJoiner out = new StringJoiner("|");
          for (Object o : key) out.add(spec(o));
          System.out.println(out);
        }
      }
    }
  }
}
