package io.reel.transport;

/** The wire contract over TCP. */
class TcpWireContractTest extends WireContractTest {
    @Override
    RawClient.Kind kind() {
        return RawClient.Kind.TCP;
    }
}
