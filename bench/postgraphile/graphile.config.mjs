// PostGraphile 5 as the dashboard bench runs it: the amber preset over adstudio's tables, the
// statistics as computed columns (stats.sql), one pool of 10 connections like adstudio's, and
// a count of every statement the pool's clients send (read through /_bench/statements).
import pg from "pg";
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

export const statements = { count: 0 };

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
pool.on("connect", (client) => {
  const query = client.query.bind(client);
  client.query = (...args) => {
    statements.count += 1;
    return query(...args);
  };
});

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  // Order and filter by any column (adstudio pages newest first on created_at).
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [makePgService({ pool, schemas: ["public"] })],
  grafserv: { graphqlPath: "/graphql", graphiql: false, watch: false },
  grafast: { explain: false },
};

export default preset;
