package dev.baton.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Latency over time for one load, as a PNG: the median and p99 of each slice of the run as lines,
 * its slowest request as dots, every failed request as a red cross at the time it started, and
 * every reload as a vertical line at the moment traffic moved. A run holds millions of requests;
 * slicing keeps the picture readable and its file small.
 */
final class Plot {
  private static final int SLICES = 600;
  private static final int MAX_RELOAD_LINES = 200;

  /**
   * Failures drawn per slice: enough to show a storm's shape, few enough to keep the file small.
   */
  private static final int FAILURE_POINTS_PER_SLICE = 12;

  /** The y axis is logarithmic; a sub-10 µs latency is drawn at 10 µs. */
  private static final double FLOOR_MS = 0.01;

  private Plot() {}

  /**
   * Draws a tiny chart in memory. Java2D registers shutdown hooks the first time it draws, which it
   * cannot do once Ctrl-C has started the JVM's shutdown; drawing once at the start keeps the plots
   * of a partial report.
   */
  static void warmUp() {
    var chart = new XYChartBuilder().width(40).height(30).build();
    chart.addSeries("warm-up", List.of(0.0, 1.0), List.of(1.0, 2.0));
    try {
      javax.imageio.ImageIO.write(
          BitmapEncoder.getBufferedImage(chart), "png", new java.io.ByteArrayOutputStream());
    } catch (IOException e) {
      // In memory: cannot happen; and a plot that later fails says so itself.
    }
  }

  static void write(LoadReport report, List<Double> reloadSeconds, String title, Path png)
      throws IOException {
    double seconds = Math.max(1e-3, report.duration().toNanos() / 1e9);
    double slice = seconds / SLICES;
    var histograms = new Histogram[SLICES + 1];
    var failuresX = new ArrayList<Double>();
    var failuresY = new ArrayList<Double>();
    int[] failuresInSlice = new int[SLICES + 1];
    report.forEachRequest(
        (startMicros, latencyMicros, failure) -> {
          int i = (int) Math.min(SLICES, startMicros / 1e6 / slice);
          if (failure == null) {
            if (histograms[i] == null) {
              histograms[i] = new Histogram(60_000_000L, 2);
            }
            histograms[i].recordValue(Math.max(1, latencyMicros));
          } else if (failuresInSlice[i]++ < FAILURE_POINTS_PER_SLICE) {
            failuresX.add(startMicros / 1e6);
            failuresY.add(Math.max(FLOOR_MS, latencyMicros / 1000.0));
          }
        });
    var x = new ArrayList<Double>();
    var p50 = new ArrayList<Double>();
    var p99 = new ArrayList<Double>();
    var max = new ArrayList<Double>();
    for (int i = 0; i <= SLICES; i++) {
      if (histograms[i] != null) {
        x.add((i + 0.5) * slice);
        p50.add(Math.max(FLOOR_MS, histograms[i].getValueAtPercentile(50) / 1000.0));
        p99.add(Math.max(FLOOR_MS, histograms[i].getValueAtPercentile(99) / 1000.0));
        max.add(Math.max(FLOOR_MS, histograms[i].getMaxValue() / 1000.0));
      }
    }

    XYChart chart =
        new XYChartBuilder()
            .width(1100)
            .height(520)
            .title(title)
            .xAxisTitle("seconds into the load")
            .yAxisTitle("latency, ms (log)")
            .build();
    var style = chart.getStyler();
    style.setYAxisLogarithmic(true);
    style.setLegendPosition(Styler.LegendPosition.OutsideS);
    style.setLegendLayout(Styler.LegendLayout.Horizontal);
    style.setChartBackgroundColor(Color.WHITE);
    style.setPlotBackgroundColor(Color.WHITE);
    style.setPlotGridLinesColor(new Color(225, 225, 225));
    style.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    style.setMarkerSize(4);
    style.setXAxisMin(0.0);
    style.setXAxisMax(seconds);
    style.setAnnotationLineColor(new Color(255, 150, 0, 110));
    style.setAnnotationLineStroke(new BasicStroke(1f));
    style.setXAxisDecimalPattern("0.#");
    style.setYAxisDecimalPattern("0.##");

    if (!x.isEmpty()) {
      line(
          chart,
          "max per slice",
          x,
          max,
          new Color(150, 150, 150),
          XYSeries.XYSeriesRenderStyle.Scatter);
      line(chart, "p99", x, p99, new Color(30, 90, 200), XYSeries.XYSeriesRenderStyle.Line);
      line(chart, "median", x, p50, new Color(20, 150, 60), XYSeries.XYSeriesRenderStyle.Line);
    }
    if (!failuresX.isEmpty()) {
      var s = chart.addSeries("failed (" + report.failed() + ")", failuresX, failuresY);
      s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
      s.setMarker(SeriesMarkers.CROSS);
      s.setMarkerColor(new Color(220, 20, 20));
    }
    // Past a few hundred, lines would paint the whole plot orange: then only the marks at the foot.
    boolean lines = reloadSeconds.size() <= MAX_RELOAD_LINES;
    if (lines) {
      for (double at : reloadSeconds) {
        chart.addAnnotation(
            new AnnotationLine(at, /* isVertical= */ true, /* isValueInScreenSpace= */ false));
      }
    }
    if (!reloadSeconds.isEmpty()) {
      // The lines have no legend entry of their own: a marker series at the foot names them.
      var ticks = new ArrayList<Double>();
      for (int i = 0; i < reloadSeconds.size(); i++) {
        ticks.add(FLOOR_MS);
      }
      var s =
          chart.addSeries(
              "reload ("
                  + reloadSeconds.size()
                  + (lines ? ", orange lines)" : ", marks at the foot)"),
              reloadSeconds,
              ticks);
      s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
      s.setMarker(SeriesMarkers.TRIANGLE_UP);
      s.setMarkerColor(new Color(255, 150, 0));
    }
    if (chart.getSeriesMap().isEmpty()) {
      chart.addSeries("no requests", List.of(0.0), List.of(FLOOR_MS));
    }
    BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
  }

  private static void line(
      XYChart chart,
      String name,
      List<Double> x,
      List<Double> y,
      Color color,
      XYSeries.XYSeriesRenderStyle style) {
    var series = chart.addSeries(name, x, y);
    series.setXYSeriesRenderStyle(style);
    series.setLineColor(color);
    series.setMarkerColor(color);
    series.setMarker(
        style == XYSeries.XYSeriesRenderStyle.Line ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);
    series.setLineWidth(1.5f);
  }
}
