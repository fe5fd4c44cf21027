import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.linkis.computation.client.LinkisJobClient;
import org.apache.linkis.computation.client.ResultSetIterable;
import org.apache.linkis.computation.client.ResultSetIterator;
import org.apache.linkis.computation.client.interactive.SubmittableInteractiveJob;
import org.apache.linkis.httpclient.authentication.AuthenticationStrategy;
import org.apache.linkis.httpclient.dws.authentication.StaticAuthenticationStrategy;
import org.apache.linkis.httpclient.dws.authentication.TokenAuthenticationStrategy;
import org.apache.linkis.httpclient.dws.config.DWSClientConfig;
import org.apache.linkis.httpclient.dws.config.DWSClientConfigBuilder;
import org.apache.linkis.ujes.client.UJESClient;
import org.apache.linkis.ujes.client.UJESClientImpl;
import org.apache.linkis.ujes.client.request.JobListAction;
import org.apache.linkis.ujes.client.request.JobSubmitAction;
import org.apache.linkis.ujes.client.request.OpenLogAction;
import org.apache.linkis.ujes.client.request.ResultSetAction;
import org.apache.linkis.ujes.client.response.JobExecuteResult;
import org.apache.linkis.ujes.client.response.JobInfoResult;
import org.apache.linkis.ujes.client.response.JobListResult;
import org.apache.linkis.ujes.client.response.JobLogResult;
import org.apache.linkis.ujes.client.response.JobProgressResult;
import org.apache.linkis.ujes.client.response.JobStatusResult;
import org.apache.linkis.ujes.client.response.OpenLogResult;
import org.apache.linkis.ujes.client.response.ResultSetResult;

/**
 * Drives Sluice's Linkis front door with the official Linkis Java SDK (org.apache.linkis:linkis-computation-client,
 * the UJES client that linkis-cli and the Linkis JDBC driver are built on). Every fact it observes is printed as
 * one line "LK <key>=<json>" for the TypeScript test to check; nothing here asserts.
 *
 * Usage: java LinkisClientDriver <gatewayUrl> <user> <token> <otherUser> <otherUsersToken>
 */
public class LinkisClientDriver {
  private static final Gson GSON = new GsonBuilder().serializeNulls().create();

  private static void out(String key, Object value) {
    System.out.println("LK " + key + "=" + GSON.toJson(value));
    System.out.flush();
  }

  private static DWSClientConfig config(String url, AuthenticationStrategy auth, String key, String value) {
    return ((DWSClientConfigBuilder)
            DWSClientConfigBuilder.newBuilder()
                .addServerUrl(url)
                .connectionTimeout(30000)
                .discoveryEnabled(false)
                .loadbalancerEnabled(false)
                .maxConnectionSize(5)
                .retryEnabled(false)
                .readTimeout(60000)
                .setAuthenticationStrategy(auth)
                .setAuthTokenKey(key)
                .setAuthTokenValue(value))
        .setDWSVersion("v1")
        .build();
  }

  private static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
    return m;
  }

  private static JobExecuteResult submit(UJESClient client, String user, String creator, String engineType, String codeType, String code, Map<String, Object> vars, Map<String, Object> runtime) {
    Map<String, Object> labels = map("engineType", engineType, "userCreator", user + "-" + creator, "codeType", codeType, "executeOnce", "");
    Map<String, Object> source = map("scriptPath", "LinkisCli", "cli.version", "1.7.0");
    JobSubmitAction action =
        JobSubmitAction.builder()
            .addExecuteCode(code)
            .setRunTypeStr(codeType)
            .setUser(user)
            .addExecuteUser(user)
            .setLabels(labels)
            .setSource(source)
            .setStartupParams(new HashMap<>())
            .setRuntimeParams(runtime)
            .setVariableMap(vars)
            .build();
    return client.submit(action);
  }

  private static JobInfoResult waitForCompletion(UJESClient client, JobExecuteResult job, String prefix) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 60_000;
    List<String> statuses = new ArrayList<>();
    StringBuilder log = new StringBuilder();
    JobLogResult lastLog = client.log(job, 0, 1);
    if (lastLog != null) log.append(lastLog.getLog().get(3));
    JobInfoResult info;
    for (; ; ) {
      JobStatusResult status = client.status(job);
      if (statuses.isEmpty() || !statuses.get(statuses.size() - 1).equals(status.getJobStatus())) statuses.add(status.getJobStatus());
      JobLogResult next = client.log(job, lastLog);
      if (next != null) {
        String all = next.getLog().get(3);
        if (!all.isEmpty()) log.append(log.length() > 0 ? "\n" : "").append(all);
        lastLog = next;
      }
      info = client.getJobInfo(job);
      if (info.isCompleted() && status.isCompleted()) break;
      if (System.currentTimeMillis() > deadline) throw new IllegalStateException("job still " + status.getJobStatus());
      Thread.sleep(200);
    }
    JobLogResult tail = client.log(job, lastLog);
    if (tail != null && !tail.getLog().get(3).isEmpty()) log.append(log.length() > 0 ? "\n" : "").append(tail.getLog().get(3));
    out(prefix + ".statuses", statuses);
    out(prefix + ".entranceLog", log.toString());
    return info;
  }

  /** Token authentication (Token-User + Token-Code headers), low-level UJESClient: the calls linkis-cli makes. */
  private static void tokenScenario(String url, String user, String token) throws Exception {
    UJESClient client = new UJESClientImpl(config(url, new TokenAuthenticationStrategy(), "Validation-Code", token));
    try {
      Map<String, Object> vars = map("factor", "10");
      Map<String, Object> runtime = map("hive.resultset.use.unique.column.names", true);
      JobExecuteResult job =
          submit(client, user, "LINKISCLI", "duckdb-1.5", "sql",
              "select range as n, range * ${factor} as m, 'row ' || range as s, null::integer as z, range % 2 = 0 as even from range(7) order by n",
              vars, runtime);
      out("token.execID", job.getExecID());
      out("token.taskID", job.getTaskID());
      JobInfoResult info = waitForCompletion(client, job, "token");
      JobProgressResult progress = client.progress(job);
      out("token.progress", progress.getProgress());
      out("token.status", info.getJobStatus());
      out("token.task", map(
          "taskID", info.getRequestPersistTask().getTaskID(),
          "status", info.getRequestPersistTask().getStatus(),
          "umUser", info.getRequestPersistTask().getUmUser(),
          "engineType", info.getRequestPersistTask().getEngineType(),
          "runType", info.getRequestPersistTask().getRunType(),
          "executionCode", info.getRequestPersistTask().getExecutionCode(),
          "resultLocation", info.getRequestPersistTask().getResultLocation(),
          "logPath", info.getRequestPersistTask().getLogPath(),
          "progress", info.getRequestPersistTask().getProgress(),
          "createdTime", info.getRequestPersistTask().getCreatedTime().getTime(),
          "updatedTime", info.getRequestPersistTask().getUpdatedTime().getTime(),
          "strongerExecId", info.getStrongerExecId()));
      String[] sets = info.getResultSetList(client);
      out("token.resultSets", sets);
      List<Object> pages = new ArrayList<>();
      for (int page = 1; page <= 2; page++) {
        ResultSetResult rs = client.resultSet(ResultSetAction.builder().setPath(sets[0]).setUser(user).setPage(page).setPageSize(5).build());
        List<Object> rows = new ArrayList<>();
        for (List<Object> row : rs.getRowList()) {
          List<Object> typed = new ArrayList<>();
          for (Object v : row) typed.add(v == null ? "<null>" : v.getClass().getSimpleName() + ":" + v);
          rows.add(typed);
        }
        pages.add(map("metadata", rs.getMetadataList(), "rows", rows, "type", rs.getType(), "totalLine", rs.getTotalLine(), "page", rs.getPage()));
      }
      out("token.pages", pages);
      OpenLogResult openLog = client.openLog(OpenLogAction.newBuilder().setLogPath(info.getRequestPersistTask().getLogPath()).setProxyUser(user).build());
      out("token.openLog", openLog.getLog());
      JobListAction listAction = JobListAction.newBuilder().setProxyUser(user).setPageNow(1).setPageSize(10).build();
      // The SDK's list builder sets no user, so token auth would send no Token-User: set it as callers must.
      listAction.setUser(user);
      JobListResult list = client.list(listAction);
      List<Object> ids = new ArrayList<>();
      for (Map<String, Object> t : list.getTasks()) ids.add(t.get("taskID"));
      out("token.list", map("taskIDs", ids, "totalPage", list.getTotalPage()));

      // A failing statement: Failed, with the numeric errCode and the Sluice code in errDesc.
      JobExecuteResult bad = submit(client, user, "LINKISCLI", "duckdb-1.5", "sql", "select * from no_such_table", new HashMap<>(), new HashMap<>());
      JobInfoResult badInfo = waitForCompletion(client, bad, "failed");
      out("failed.task", map(
          "status", badInfo.getJobStatus(),
          "errCode", badInfo.getRequestPersistTask().getErrCode(),
          "errDesc", badInfo.getRequestPersistTask().getErrDesc()));
      try {
        badInfo.getResultSetList(client);
        out("failed.resultSets", "no exception");
      } catch (Exception e) {
        out("failed.resultSets", e.getClass().getSimpleName());
      }

      // Kill a running shell job.
      JobExecuteResult slow = submit(client, user, "LINKISCLI", "shell-1", "shell", "echo started; sleep 30; echo never", new HashMap<>(), new HashMap<>());
      long deadline = System.currentTimeMillis() + 30_000;
      while (!"Running".equals(client.status(slow).getJobStatus()) && System.currentTimeMillis() < deadline) Thread.sleep(100);
      out("kill.before", client.status(slow).getJobStatus());
      out("kill.reply", client.kill(slow).getStatus());
      JobInfoResult killed = waitForCompletion(client, slow, "kill");
      out("kill.status", killed.getJobStatus());
    } finally {
      client.close();
    }
  }

  /** Static authentication (user/login with the token as password, then the session cookie), high-level interactive job API. */
  private static void staticScenario(String url, String user, String token) throws Exception {
    LinkisJobClient jobs = new LinkisJobClient(config(url, new StaticAuthenticationStrategy(), user, token));
    try {
      SubmittableInteractiveJob job =
          (SubmittableInteractiveJob)
              jobs.interactiveJobBuilder()
                  .addExecuteUser(user)
                  .setEngineType("duckdb-1.5")
                  .setCreator("JDBCDriver")
                  .setCode("select 'a' as k, 42::bigint as v, 1.5::double as d union all select 'b', 7, 2.25 order by k")
                  .setRunTypeStr("sql")
                  .build();
      List<String> logs = new ArrayList<>();
      // The listener receives Linkis' [error, warn, info, all] on every poll; keep the non-empty "all" parts.
      job.addLogListener(l -> {
        if (l.size() == 4 && !l.get(3).isEmpty()) logs.add(l.get(3));
      });
      job.submit();
      out("static.taskID", job.getId());
      job.waitForCompleted();
      out("static.status", job.getJobInfoResult().getJobStatus());
      List<Object> sets = new ArrayList<>();
      for (ResultSetIterable it : job.getResultSetIterables()) {
        ResultSetIterator<?, ?> rows = it.iterator();
        List<Object> all = new ArrayList<>();
        while (rows.hasNext()) {
          Object row = rows.next();
          List<Object> typed = new ArrayList<>();
          for (Object v : (List<?>) row) typed.add(v == null ? "<null>" : v.getClass().getSimpleName() + ":" + v);
          all.add(typed);
        }
        sets.add(map("metadata", rows.getMetadata(), "rows", all));
      }
      out("static.resultSets", sets);
      out("static.logs", String.join("\n", logs));
    } finally {
      jobs.close();
    }
  }

  /** A token that does not belong to the claimed user is refused. */
  private static void wrongUserScenario(String url, String user, String othersToken) {
    UJESClient client = new UJESClientImpl(config(url, new TokenAuthenticationStrategy(), "Validation-Code", othersToken));
    try {
      JobExecuteResult job = submit(client, user, "LINKISCLI", "duckdb-1.5", "sql", "select 1", new HashMap<>(), new HashMap<>());
      out("wrongUser.result", "accepted " + job.getTaskID());
    } catch (Exception e) {
      out("wrongUser.result", e.getMessage());
    } finally {
      try {
        client.close();
      } catch (Exception ignored) {
        // closing a client that failed is best effort
      }
    }
  }

  public static void main(String[] args) throws Exception {
    String url = args[0];
    String user = args[1];
    String token = args[2];
    String otherToken = args[4];
    String[] scenarios = {"token", "static", "wrongUser"};
    for (String s : scenarios) {
      try {
        switch (s) {
          case "token" -> tokenScenario(url, user, token);
          case "static" -> staticScenario(url, user, token);
          default -> wrongUserScenario(url, user, otherToken);
        }
        out(s + ".done", true);
      } catch (Throwable t) {
        out(s + ".error", t.toString());
        t.printStackTrace();
      }
    }
    System.exit(0);
  }
}
