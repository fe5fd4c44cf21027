/** Serializes a bus message to JSON, rejecting what JSON cannot carry or what exceeds `maxBytes`. */
export function serializeMessage(message: unknown, maxBytes: number, transport: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(message);
  } catch (e) {
    throw new Error(`bus message is not JSON-serializable: ${(e as Error).message}`);
  }
  if (json === undefined) throw new Error('bus message is not JSON-serializable (undefined, a function or a symbol)');
  const bytes = Buffer.byteLength(json);
  if (bytes > maxBytes) {
    throw new Error(`bus message is ${bytes} bytes, more than the ${maxBytes} bytes ${transport} carries; send a reference to the data instead`);
  }
  return json;
}

/** Checks a topic name: a non-empty string of at most 200 characters. */
export function assertTopic(topic: string): void {
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > 200)
    throw new Error(`bus topic must be a string of 1–200 characters, got ${JSON.stringify(topic)}`);
}
