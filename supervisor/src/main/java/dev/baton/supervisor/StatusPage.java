package dev.baton.supervisor;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The read-only status page: generations, listeners and the deploy history, as one HTML document
 * with its style inline. No build step, no CDN, no script: it reloads itself every two seconds with
 * a meta refresh, so it works with JavaScript off and in a terminal browser.
 */
final class StatusPage {
  private StatusPage() {}

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

  private static final String STYLE =
      """
      :root{color-scheme:light dark;--line:#8884;--dim:#888;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--info:#0969da}
      body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;padding:1.2em 1.5em;max-width:78em}
      h1{font-size:1.3em;margin:0 0 .2em}h2{font-size:1.05em;margin:1.6em 0 .4em}
      .sub{color:var(--dim);margin:0 0 1em}
      table{border-collapse:collapse;width:100%}
      th,td{text-align:left;padding:.3em .7em .3em 0;border-bottom:1px solid var(--line);vertical-align:top}
      th{font-weight:600;color:var(--dim);font-size:.85em;text-transform:uppercase;letter-spacing:.03em}
      td.n{font-variant-numeric:tabular-nums;white-space:nowrap}
      code{font:12.5px ui-monospace,monospace;word-break:break-all}
      .b{display:inline-block;padding:0 .55em;border-radius:1em;font-size:.85em;font-weight:600;border:1px solid}
      .active,.ok{color:var(--ok)}.failed,.exited{color:var(--bad)}.draining,.starting{color:var(--warn)}
      .parked,.ready{color:var(--info)}
      .empty{color:var(--dim);font-style:italic}
      """;

  static String render(MetricsServer.View view) {
    var status = view.status();
    var now = Instant.now();
    var out = new StringBuilder(8192);
    out.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
        .append("<meta http-equiv=\"refresh\" content=\"2\">")
        .append("<title>baton: generation ")
        .append(status.activeGeneration().map(String::valueOf).orElse("none"))
        .append(" active</title><style>")
        .append(STYLE)
        .append("</style></head><body>");
    out.append("<h1>baton</h1><p class=\"sub\">supervisor pid ")
        .append(status.supervisorPid())
        .append(" &middot; version ")
        .append(html(MetricsServer.version()))
        .append(" &middot; active generation <b id=\"active\">")
        .append(status.activeGeneration().map(String::valueOf).orElse("none"))
        .append("</b>")
        .append(status.deploying() ? " &middot; <span class=\"starting\">deploying</span>" : "")
        .append(
            status
                .crashLoop()
                .map(c -> " &middot; <span class=\"failed\">crash loop: " + html(c) + "</span>")
                .orElse(""))
        .append(" &middot; ")
        .append(TIME.format(now))
        .append(" UTC</p>");

    out.append("<h2>Generations</h2><table id=\"generations\"><thead><tr>")
        .append("<th>#</th><th>State</th><th>PID</th><th>Age</th><th>Ready</th><th>Command</th>")
        .append("<th>Note</th></tr></thead><tbody>");
    if (status.generations().isEmpty()) {
      out.append("<tr><td colspan=\"7\" class=\"empty\">none yet</td></tr>");
    }
    for (var g : status.generations().reversed()) {
      out.append("<tr data-state=\"")
          .append(g.state())
          .append("\"><td class=\"n\">")
          .append(g.number())
          .append("</td><td><span class=\"b ")
          .append(g.state())
          .append("\">")
          .append(g.state())
          .append("</span></td><td class=\"n\">")
          .append(g.pid())
          .append("</td><td class=\"n\">")
          .append(age(Duration.between(g.started(), g.exited().orElse(now))))
          .append("</td><td>")
          .append(html(g.readiness()))
          .append("</td><td><code>")
          .append(html(String.join(" ", g.command())))
          .append("</code></td><td>")
          .append(html(g.exit().map(e -> e + (g.reason().isEmpty() ? "" : "; ")).orElse("")))
          .append(html(g.reason()))
          .append("</td></tr>");
    }
    out.append("</tbody></table>");

    out.append("<h2>Listeners</h2><table id=\"listeners\"><thead><tr>")
        .append("<th>Name</th><th>Address</th><th>Passed as</th><th>Held by generations</th>")
        .append("</tr></thead><tbody>");
    for (var l : status.listeners()) {
      out.append("<tr><td>")
          .append(html(l.name()))
          .append(l.retired() ? " <span class=\"b exited\">retired</span>" : "")
          .append("</td><td><code>")
          .append(html(l.address()))
          .append("</code></td><td>")
          .append(html(l.pass()))
          .append("</td><td class=\"n\">")
          .append(join(l.generations()))
          .append("</td></tr>");
    }
    out.append("</tbody></table>");

    out.append("<h2>Deploys and rollbacks</h2><table id=\"history\"><thead><tr>")
        .append("<th>When (UTC)</th><th>Kind</th><th>Result</th><th>Generation</th>")
        .append("<th>Ready</th><th>Promoted</th><th>Took</th><th>Reason</th></tr></thead><tbody>");
    if (view.history().isEmpty()) {
      out.append("<tr><td colspan=\"8\" class=\"empty\">no deploy has ended yet</td></tr>");
    }
    for (var e : view.history().reversed()) {
      var kind = e.kind().name().toLowerCase(Locale.ROOT);
      out.append("<tr data-kind=\"")
          .append(kind)
          .append("\" data-result=\"")
          .append(e.ok() ? "ok" : "failed")
          .append("\"><td class=\"n\">")
          .append(TIME.format(e.at()))
          .append("</td><td>")
          .append(kind)
          .append(
              e.trigger().equals("manual") || e.trigger().equals(kind)
                  ? ""
                  : " (" + html(e.trigger()) + ")")
          .append("</td><td><span class=\"b ")
          .append(e.ok() ? "ok\">ok" : "failed\">failed")
          .append("</span></td><td class=\"n\">")
          .append(e.generation().map(String::valueOf).orElse("&ndash;"))
          .append(e.replaced().map(r -> " &larr; " + r).orElse(""))
          .append("</td><td class=\"n\">")
          .append(millis(e.ready()))
          .append("</td><td class=\"n\">")
          .append(millis(e.promoted()))
          .append("</td><td class=\"n\">")
          .append(e.took().toMillis())
          .append(" ms</td><td class=\"reason\">")
          .append(html(e.reason()))
          .append(e.reason().isEmpty() || e.error().isEmpty() ? "" : "<br>")
          .append(
              e.error().isEmpty() ? "" : "<span class=\"failed\">" + html(e.error()) + "</span>")
          .append("</td></tr>");
    }
    out.append("</tbody></table></body></html>\n");
    return out.toString();
  }

  private static String millis(Optional<Duration> d) {
    return d.map(v -> v.toMillis() + " ms").orElse("&ndash;");
  }

  private static String join(List<Integer> numbers) {
    return numbers.isEmpty()
        ? "&ndash;"
        : String.join(", ", numbers.stream().map(String::valueOf).toList());
  }

  static String age(Duration d) {
    long s = d.toSeconds();
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return s / 60 + "m " + s % 60 + "s";
    }
    if (s < 86400) {
      return s / 3600 + "h " + s % 3600 / 60 + "m";
    }
    return s / 86400 + "d " + s % 86400 / 3600 + "h";
  }

  /** Text as HTML: the five characters that could end an element or an attribute, escaped. */
  static String html(String text) {
    var out = new StringBuilder(text.length() + 16);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
