package dev.yaad.server;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** {@code yaad --version}: the build's version (written by Maven into {@code version.properties}) and the Java runtime. */
final class Version implements IVersionProvider {
  /** This build's version, such as {@code 0.1.0-SNAPSHOT}; {@code unknown} outside a Maven build. */
  static String of() {
    try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties properties = new Properties();
      properties.load(in);
      String version = properties.getProperty("version", "unknown");
      return version.startsWith("${") ? "unknown" : version;
    } catch (IOException e) {
      return "unknown";
    }
  }

  @Override
  public String[] getVersion() {
    return new String[] {"yaad " + of() + " (Java " + Runtime.version() + ", " + System.getProperty("java.vm.name") + ")"};
  }
}
