package dev.yaad.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** A WebSocket client by hand, for what the JDK's will not do: stop reading, send any header. */
final class RawWebSocket {
  private RawWebSocket() {}

  /** Sends the upgrade request (with {@code headers}, each a whole line) and returns the stream after a 101. */
  static InputStream handshake(Socket raw, String query, List<String> headers) throws IOException {
    int status = upgrade(raw, query, headers);
    assertThat(status).as("upgrade status").isEqualTo(101);
    return raw.getInputStream();
  }

  /** Sends the upgrade request and returns the status of the answer. */
  static int upgrade(Socket raw, String query, List<String> headers) throws IOException {
    StringBuilder request = new StringBuilder("GET " + SessionApi.PATH + "?" + query + " HTTP/1.1\r\n");
    if (headers.stream().noneMatch(h -> h.regionMatches(true, 0, "Host:", 0, 5))) {
      request.append("Host: 127.0.0.1:").append(raw.getPort()).append("\r\n");
    }
    headers.forEach(h -> request.append(h).append("\r\n"));
    request.append("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
        .append("Sec-WebSocket-Version: 13\r\n\r\n");
    raw.getOutputStream().write(request.toString().getBytes(StandardCharsets.US_ASCII));
    StringBuilder head = new StringBuilder();
    InputStream in = raw.getInputStream();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.append((char) b);
    }
    return Integer.parseInt(head.substring(9, 12));
  }

  /** One masked client text frame (the mask is zero, which is allowed). */
  static void writeText(OutputStream out, String text) throws IOException {
    write(out, 0x81, text.getBytes(StandardCharsets.UTF_8));
  }

  /** One masked client frame: FIN and the opcode in {@code firstByte} (0x8A is a pong). */
  static void write(OutputStream out, int firstByte, byte[] payload) throws IOException {
    out.write(firstByte);
    if (payload.length < 126) {
      out.write(0x80 | payload.length);
    } else {
      out.write(0x80 | 126);
      out.write(payload.length >> 8);
      out.write(payload.length & 0xFF);
    }
    out.write(new byte[4]);
    out.write(payload);
    out.flush();
  }

  /** One frame from the server (unmasked, as servers send them). */
  record Frame(int opcode, byte[] payload) {
    static Frame read(InputStream in) throws IOException {
      int first = in.read();
      if (first < 0) {
        throw new java.io.EOFException("the server closed the connection without a close frame");
      }
      long length = in.read() & 0x7F;
      if (length == 126) {
        length = (in.read() << 8) | in.read();
      } else if (length == 127) {
        length = 0;
        for (int i = 0; i < 8; i++) {
          length = (length << 8) | in.read();
        }
      }
      return new Frame(first & 0x0F, in.readNBytes((int) length));
    }

    boolean isClose() {
      return opcode == 0x8;
    }

    /** The code of a close frame. */
    int closeCode() {
      return ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
    }
  }

  /** Reads frames up to the close frame; returns its code. */
  static int readUntilClose(InputStream in) throws IOException {
    while (true) {
      Frame frame = Frame.read(in);
      if (frame.isClose()) {
        return frame.closeCode();
      }
    }
  }
}
