// The agent example's door: the schema it works on and the consumer loop (agent.ts, which is
// also the runnable script).

export { AGENT_SCHEMA, answer, runAgent } from "./agent.ts";
