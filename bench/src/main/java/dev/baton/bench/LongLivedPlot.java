package dev.baton.bench;

import java.awt.Color;
import java.awt.Font;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * A long-lived run as one PNG of three charts stacked on one time axis: the generations serving
 * (every 100 ms) with their bound, the reconnects per second, and the supervisor's RSS. Their
 * scales differ by orders of magnitude, so each gets its own chart rather than a shared y axis.
 */
final class LongLivedPlot {
  private static final int WIDTH = 1100;
  private static final int HEIGHT = 300;

  private LongLivedPlot() {}

  static void write(LongLivedReport report, Path png) throws IOException {
    double end = Math.max(1, report.ticks.isEmpty() ? 1 : report.ticks.getLast().at());
    var serving =
        chart(
            "baton bench --long-lived "
                + report.plan.kind()
                + ": generations serving (active + draining)",
            "generations",
            end);
    add(
        serving,
        "serving, every 100 ms",
        report.ticks.stream().map(LongLivedSamples.Tick::at).toList(),
        report.ticks.stream().map(t -> (double) t.serving()).toList(),
        new Color(30, 90, 200));
    add(
        serving,
        "max_draining + 1",
        List.of(0.0, end),
        List.of((double) report.servingBound(), (double) report.servingBound()),
        new Color(220, 20, 20));
    var reconnects = chart("reconnects per second", "reconnects/s", end);
    add(
        reconnects,
        "reconnects set out/s",
        report.seconds,
        s -> (double) s.attempts(),
        Color.DARK_GRAY);
    add(
        reconnects,
        "abnormal ends/s",
        report.seconds,
        s -> (double) s.abnormalEnds(),
        new Color(220, 20, 20));
    var rss = chart("supervisor RSS", "MiB", end);
    add(
        rss,
        "supervisor RSS",
        report.seconds,
        s -> s.rssBytes() / (double) (1 << 20),
        new Color(20, 150, 60));
    var image = new BufferedImage(WIDTH, 3 * HEIGHT, BufferedImage.TYPE_INT_RGB);
    var g = image.createGraphics();
    try {
      int y = 0;
      for (var chart : List.of(serving, reconnects, rss)) {
        g.drawImage(BitmapEncoder.getBufferedImage(chart), 0, y, null);
        y += HEIGHT;
      }
    } finally {
      g.dispose();
    }
    ImageIO.write(image, "png", png.toFile());
  }

  private static XYChart chart(String title, String yTitle, double end) {
    var chart =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title(title)
            .xAxisTitle("seconds since the fleet began to open")
            .yAxisTitle(yTitle)
            .build();
    var style = chart.getStyler();
    style.setLegendPosition(Styler.LegendPosition.InsideNW);
    style.setChartBackgroundColor(Color.WHITE);
    style.setPlotBackgroundColor(Color.WHITE);
    style.setPlotGridLinesColor(new Color(225, 225, 225));
    style.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
    style.setXAxisMin(0.0);
    style.setXAxisMax(end);
    style.setYAxisMin(0.0);
    style.setXAxisDecimalPattern("0");
    style.setYAxisDecimalPattern("0.#");
    return chart;
  }

  private static void add(
      XYChart chart,
      String name,
      List<LongLivedSamples.Second> seconds,
      Function<LongLivedSamples.Second, Double> y,
      Color color) {
    var xs = new ArrayList<Double>();
    var ys = new ArrayList<Double>();
    for (var s : seconds) {
      xs.add(s.at());
      ys.add(y.apply(s));
    }
    add(chart, name, xs, ys, color);
  }

  private static void add(XYChart chart, String name, List<Double> x, List<Double> y, Color color) {
    // xchart refuses an empty series; a run that sampled nothing still gets its picture.
    var series =
        x.isEmpty()
            ? chart.addSeries(name, List.of(0.0), List.of(0.0))
            : chart.addSeries(name, x, y);
    series.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
    series.setMarker(SeriesMarkers.NONE);
    series.setLineColor(color);
    series.setLineWidth(1.5f);
  }
}
