package dev.yaad.server.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.handler.ErrorHandler;

/**
 * Jetty refuses some requests before Javalin sees them: a malformed URI such as
 * {@code /users/%zz}, or oversized headers. This makes those answers the API's JSON error
 * too, instead of Jetty's HTML page.
 */
final class JettyErrors extends ErrorHandler {

  @Override
  public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
    String why = reason == null || reason.isBlank() ? HttpStatus.getMessage(status) : reason;
    String body = JsonBody.JSON.createObjectNode()
        .put("error", ApiErrors.code(status))
        .put("message", "the request could not be read by the server: " + why)
        .toString();
    fields.put(HttpHeader.CONTENT_TYPE, "application/json");
    return ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8));
  }
}
