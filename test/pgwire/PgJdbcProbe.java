import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Drives pgJDBC against Sluice's pgwire listener. Each mode prints `key=value` lines that the
 * Node test asserts; any unexpected exception exits with status 1.
 * Usage: java -cp postgresql.jar:. PgJdbcProbe MODE URL USER PASSWORD [ARG]
 */
public class PgJdbcProbe {
  static void out(String k, Object v) {
    System.out.println(k + "=" + v);
  }

  static Connection connect(String url, String user, String password) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", user);
    p.setProperty("password", password);
    return DriverManager.getConnection(url, p);
  }

  public static void main(String[] args) throws Exception {
    String mode = args[0], url = args[1], user = args[2], password = args[3];
    switch (mode) {
      case "types": types(url, user, password); break;
      case "cancel": cancel(url, user, password); break;
      case "metadata": metadata(url, user, password, args[4]); break;
      case "fetch": fetch(url, user, password); break;
      case "login": login(url, user, password); break;
      default: throw new IllegalArgumentException(mode);
    }
  }

  static void login(String url, String user, String password) {
    try (Connection c = connect(url, user, password)) {
      out("login", "ok");
    } catch (SQLException e) {
      out("sqlstate", e.getSQLState());
      out("message", e.getMessage().replace('\n', ' '));
    }
  }

  static void types(String url, String user, String password) throws SQLException {
    try (Connection c = connect(url, user, password)) {
      out("product", c.getMetaData().getDatabaseProductName() + " " + c.getMetaData().getDatabaseProductVersion());
      String sql = "SELECT ?::INTEGER AS i, ?::BIGINT AS b, ?::DECIMAL(20,4) AS d, ?::DOUBLE AS f, ?::BOOLEAN AS t, ?::VARCHAR AS s, "
          + "?::DATE AS dt, ?::TIMESTAMP AS ts, [1, 2, NULL]::INTEGER[] AS arr, ['a', 'b c']::VARCHAR[] AS sarr, ?::INTEGER AS n";
      // Run it more than prepareThreshold times: later executions use a named statement and binary results.
      for (int round = 0; round < 7; round++) {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
          ps.setInt(1, 42 + round);
          ps.setLong(2, 9007199254740993L);
          ps.setBigDecimal(3, new BigDecimal("12345678901234.5678"));
          ps.setDouble(4, 0.1);
          ps.setBoolean(5, true);
          ps.setString(6, "it's \"quoted\" ünïcødé; DROP TABLE x; --");
          ps.setDate(7, java.sql.Date.valueOf("2024-02-29"));
          ps.setTimestamp(8, java.sql.Timestamp.valueOf("2024-03-01 12:34:56.789"));
          ps.setNull(9, java.sql.Types.INTEGER);
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            String p = "r" + round + ".";
            out(p + "i", rs.getInt("i"));
            out(p + "b", rs.getLong("b"));
            out(p + "d", rs.getBigDecimal("d").toPlainString());
            out(p + "f", rs.getDouble("f"));
            out(p + "t", rs.getBoolean("t"));
            out(p + "s", rs.getString("s"));
            out(p + "dt", rs.getDate("dt"));
            out(p + "ts", rs.getTimestamp("ts"));
            Array arr = rs.getArray("arr");
            Object[] items = (Object[]) arr.getArray();
            out(p + "arr", items.length + ":" + items[0] + "," + items[1] + "," + items[2]);
            Object[] sitems = (Object[]) rs.getArray("sarr").getArray();
            out(p + "sarr", sitems[0] + "|" + sitems[1]);
            rs.getInt("n");
            out(p + "n_null", rs.wasNull());
            out(p + "type.d", rs.getMetaData().getColumnTypeName(3));
          }
        }
      }
      try (Statement st = c.createStatement()) {
        try {
          st.executeQuery("SELEC broken");
          out("syntax", "no error");
        } catch (SQLException e) {
          out("syntax.sqlstate", e.getSQLState());
        }
        try (ResultSet rs = st.executeQuery("SELECT 7 AS after_error")) {
          rs.next();
          out("after_error", rs.getInt(1));
        }
      }
    }
  }

  static void cancel(String url, String user, String password) throws Exception {
    try (Connection c = connect(url, user, password); Statement st = c.createStatement()) {
      AtomicReference<Throwable> failure = new AtomicReference<>();
      Thread t = new Thread(() -> {
        try {
          Thread.sleep(2500);
          st.cancel();
        } catch (Throwable e) {
          failure.set(e);
        }
      });
      t.start();
      long start = System.currentTimeMillis();
      try {
        st.executeQuery("SELECT count(*) FROM range(2000000000) a, range(1000) b");
        out("cancel", "completed");
      } catch (SQLException e) {
        out("cancel.sqlstate", e.getSQLState());
        out("cancel.ms", System.currentTimeMillis() - start);
      }
      t.join();
      if (failure.get() != null) throw new RuntimeException(failure.get());
      try (ResultSet rs = st.executeQuery("SELECT 'still usable' AS s")) {
        rs.next();
        out("after_cancel", rs.getString(1));
      }
    }
  }

  static void metadata(String url, String user, String password, String table) throws SQLException {
    try (Connection c = connect(url, user, password)) {
      DatabaseMetaData md = c.getMetaData();
      try (ResultSet rs = md.getTables(null, "public", table, new String[] {"TABLE", "VIEW"})) {
        while (rs.next()) out("table", rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME") + ":" + rs.getString("TABLE_TYPE"));
      }
      try (ResultSet rs = md.getColumns(null, "public", table, "%")) {
        while (rs.next()) {
          out("column", rs.getString("COLUMN_NAME") + ":" + rs.getString("TYPE_NAME") + ":" + rs.getInt("DATA_TYPE") + ":" + rs.getInt("ORDINAL_POSITION")
              + ":" + rs.getString("IS_NULLABLE"));
        }
      }
    }
  }

  static void fetch(String url, String user, String password) throws SQLException {
    try (Connection c = connect(url, user, password)) {
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement("SELECT range AS n FROM range(?)")) {
        ps.setFetchSize(100);
        ps.setInt(1, 2500);
        long sum = 0;
        int count = 0;
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            sum += rs.getLong(1);
            count++;
          }
        }
        out("fetch.count", count);
        out("fetch.sum", sum);
      }
      c.commit();
    }
  }
}
