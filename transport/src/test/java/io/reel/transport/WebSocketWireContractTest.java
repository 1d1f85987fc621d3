package io.reel.transport;

/** The wire contract over WebSocket. */
class WebSocketWireContractTest extends WireContractTest {
    @Override
    RawClient.Kind kind() {
        return RawClient.Kind.WEBSOCKET;
    }
}
