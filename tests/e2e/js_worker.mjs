// Camunda's own JavaScript external task client (camunda-external-task-client-js, unchanged) as a
// worker would write it from the client's README; tests/e2e/test_external_task_client_js.py runs it.
// Usage: node js_worker.mjs BASE_URL USERNAME PASSWORD TOPIC MODE [BUSINESS_KEY]   (MODE: complete | fail)
// complete: takes one task, completes it with typed variables and exits 0;
// fail: reports the first task it gets as failed with no retries left (an incident) and exits 0.
import { BasicAuthInterceptor, Client, Variables, logger } from "camunda-external-task-client-js";

const [baseUrl, username, password, topic, mode, businessKey] = process.argv.slice(2);

const client = new Client({
  baseUrl,
  workerId: `js-${mode}`,
  interceptors: new BasicAuthInterceptor({ username, password }),
  use: logger,
  asyncResponseTimeout: 2000,
  lockDuration: 10000,
  maxTasks: 1,
  sorting: [{ sortBy: Client.SortBy.CreateTime, sortOrder: Client.SortOrder.DESC }],
});

const done = (code) => {
  client.stop();
  setTimeout(() => process.exit(code), 100);
};

client.on("poll:error", (error) => {
  console.log("poll error", error.message);
});

const subscription = { variables: ["title", "lead_unit", "opinion"], ...(businessKey ? { businessKey } : {}) };

client.subscribe(topic, subscription, async ({ task, taskService }) => {
  console.log("fetched", JSON.stringify(task.variables.getAll()));
  try {
    if (mode === "fail") {
      await taskService.handleFailure(task, {
        errorMessage: "短信网关拒绝",
        errorDetails: "HTTP 503 from the SMS gateway",
        retries: 0,
        retryTimeout: 0,
      });
      console.log("failed", task.id);
    } else {
      const variables = new Variables()
        .set("pushed_by_js", true)
        .setTyped("push_count", { type: "Integer", value: 3, valueInfo: {} })
        .set("push_receipt", { channel: "dingtalk", title: task.variables.get("title") });
      const local = new Variables().set("gateway_status", "OK");
      await taskService.complete(task, variables, local);
      console.log("completed", task.id);
    }
    done(0);
  } catch (error) {
    console.log("answer error", error.message);
    done(1);
  }
});
