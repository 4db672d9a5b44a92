// Serve the preset on 127.0.0.1:$PORT: POST /graphql, GET /healthz, and GET /_bench/statements
// (the number of SQL statements sent so far, as JSON).
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import preset, { statements } from "./graphile.config.mjs";

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
await pgl.getSchema(); // build the schema before answering the health check
const graphql = serv.createHandler();

const server = createServer((req, res) => {
  if (req.url === "/healthz" || req.url === "/_bench/statements") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ statements: statements.count }));
    return;
  }
  graphql(req, res, () => {
    res.writeHead(404);
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT), "127.0.0.1");

const stop = async () => {
  server.close();
  await pgl.release();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
