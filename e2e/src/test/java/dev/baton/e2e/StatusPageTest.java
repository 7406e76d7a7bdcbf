package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * [metrics]' status page as a browser renders it: Debian's real Chromium loads it after a deploy, a
 * failed deploy and a rollback, and the history table it built shows each with its reason; then it
 * saves a screenshot (target/status-page.png, the one docs/status-page.png was copied from).
 */
class StatusPageTest {
  @TempDir Path dir;

  /** Characters an HTML page must escape, so the DOM shows whether the page did. */
  static final String REASON = "checkout p99 > 2 s & errors since v2";

  static final Path SCREENSHOT = Path.of("target/status-page.png");

  record Row(String kind, String result, String reason) {}

  @Test
  void chromiumShowsTheDeployAndTheRollbackWithTheirReasonsInTheHistory() throws Exception {
    var config = Service.sampleConfig("[metrics]", "address = \"127.0.0.1:0\"");
    try (var service = Service.start(dir, config)) {
      var url = "http://" + service.metricsAddress() + "/";
      // A deploy that takes a changed [app]: the history gives "config: [app]" as its reason.
      Files.writeString(
          service.config, config.replace("[app]\n", "[app]\nenv = { RELEASE = \"v2\" }\n"));
      var deploy = service.cli("deploy");
      assertThat(deploy.exit()).as(deploy.output()).isZero();
      var bad = service.deploy(Service.sampleArgv("--exit-at-start=3"));
      assertThat(bad.path("ok").asBoolean()).as(bad.toString()).isFalse();
      var rollback = service.cli("rollback", "--reason", REASON);
      assertThat(rollback.exit()).as(rollback.output()).isZero();
      int active = service.status().path("active_generation").asInt();

      var chromium = new Chromium(dir.resolve("chromium"));
      long began = System.nanoTime();
      var dom = chromium.dumpDom(url);
      long domMillis = (System.nanoTime() - began) / 1_000_000;

      var rows = history(dom);
      assertThat(rows).as("the history table, newest first, in %s", dom).hasSize(4);
      assertThat(rows.get(0)).isEqualTo(new Row("rollback", "ok", html(REASON)));
      assertThat(rows.get(1).kind()).isEqualTo("deploy");
      assertThat(rows.get(1).result()).isEqualTo("failed");
      assertThat(rows.get(1).reason())
          .as("no reason was given: the error alone")
          .startsWith("<span class=\"failed\">generation 3 (pid ")
          .contains("exited with status 3");
      assertThat(rows.get(2)).isEqualTo(new Row("deploy", "ok", "config: [app]"));
      assertThat(rows.get(3)).isEqualTo(new Row("start", "ok", ""));
      assertThat(dom).contains("<b id=\"active\">" + active + "</b>");
      assertThat(active).as("rolled back to the parked generation 1").isEqualTo(1);

      began = System.nanoTime();
      chromium.screenshot(url, SCREENSHOT, 1280, 900);
      long screenshotMillis = (System.nanoTime() - began) / 1_000_000;
      assertThat(pngSize(SCREENSHOT)).containsExactly(1280, 900);
      // A blank page of that size compresses to a few KB; the tables and their text do not.
      assertThat(Files.size(SCREENSHOT)).as("a page drawn").isGreaterThan(40_000);
      System.out.printf(
          "Chromium (headless): the status page's DOM in %d ms, a 1280x900 screenshot (%d bytes)"
              + " in %d ms, each a whole browser start%n",
          domMillis, Files.size(SCREENSHOT), screenshotMillis);
    }
  }

  /** The rows of the history table: kind, result, and the reason cell's inner HTML. */
  static List<Row> history(String dom) {
    var table = Pattern.compile("<table id=\"history\">(.*?)</table>", Pattern.DOTALL).matcher(dom);
    assertThat(table.find()).as("a history table in %s", dom).isTrue();
    var row =
        Pattern.compile(
            "<tr data-kind=\"([^\"]*)\" data-result=\"([^\"]*)\">.*?<td class=\"reason\">(.*?)</td>",
            Pattern.DOTALL);
    var rows = new ArrayList<Row>();
    var found = row.matcher(table.group(1));
    while (found.find()) {
      rows.add(new Row(found.group(1), found.group(2), found.group(3)));
    }
    return rows;
  }

  /** The text as a serialized DOM shows it. */
  static String html(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  /** A PNG's width and height, from its IHDR chunk. */
  static int[] pngSize(Path png) throws Exception {
    try (var in = new DataInputStream(Files.newInputStream(png))) {
      var signature = in.readNBytes(8);
      assertThat(signature)
          .as("a PNG signature")
          .containsExactly(0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n');
      in.readInt();
      assertThat(new String(in.readNBytes(4), java.nio.charset.StandardCharsets.US_ASCII))
          .isEqualTo("IHDR");
      return new int[] {in.readInt(), in.readInt()};
    }
  }
}
