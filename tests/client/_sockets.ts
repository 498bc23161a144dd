// Test kit: a WebSocket constructor that keeps every socket the client opened, so a test can
// count them or close one under the client (a dropped link).

export function trackedSockets(): {
  opened: WebSocket[];
  WebSocket: new (url: string) => WebSocket;
} {
  const opened: WebSocket[] = [];
  class Tracked extends WebSocket {
    constructor(url: string) {
      super(url);
      opened.push(this);
    }
  }
  return { opened, WebSocket: Tracked };
}
