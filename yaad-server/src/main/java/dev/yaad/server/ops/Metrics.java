package dev.yaad.server.ops;

import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The server's one meter registry, scraped at {@code GET /metrics} in the Prometheus text
 * format. It starts with the JVM basics (memory, GC, threads, classes, CPU, uptime); the
 * HTTP layer adds {@code http.server.requests}; every other component is handed
 * {@link #registry()} (as a plain {@code MeterRegistry}) and registers its own meters there,
 * named {@code yaad.<component>.<what>} ({@code docs/operations.md} lists them).
 */
public final class Metrics implements AutoCloseable {
  /** The content type of the Prometheus text exposition format that {@link #scrape()} writes. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final JvmGcMetrics gc = new JvmGcMetrics();

  public Metrics() {
    for (MeterBinder binder : new MeterBinder[] {new JvmMemoryMetrics(), gc, new JvmThreadMetrics(),
        new ClassLoaderMetrics(), new ProcessorMetrics(), new UptimeMetrics()}) {
      binder.bindTo(registry);
    }
  }

  /** Give this to every component that measures something. */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Every meter, in the Prometheus text format. */
  public String scrape() {
    return registry.scrape();
  }

  @Override
  public void close() {
    gc.close();
    registry.close();
  }
}
