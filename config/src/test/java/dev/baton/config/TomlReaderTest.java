package dev.baton.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import tools.jackson.core.JacksonException;

/**
 * TomlReader against jackson-dataformat-toml, the parser it replaced: every document either read to
 * the same values by both or refused by both. A hand-picked corpus of TOML's features and its
 * traps, then documents generated from fragments of both kinds.
 */
class TomlReaderTest {
  static final List<String> VALID =
      List.of(
          "",
          "# only a comment\n",
          "a = 1\nb = -2\nc = +3\nd = 1_000\ne = 0\n",
          "h = 0xDEAD_beef\no = 0o755\nb = 0b1101\n",
          "f = 1.5\ng = -0.01\nh = 5e+22\ni = 1e06\nj = -2E-2\nk = 6.626e-34\nl = 224_617.445_991\n",
          "a = inf\nb = +inf\nc = -inf\nd = nan\ne = +nan\nf = -nan\n",
          "big = 99999999999999999999\nneg = -9223372036854775808\nmax = 9223372036854775807\n",
          "s = \"tab\\there \\\"quoted\\\" \\\\ \\u00e9 \\U0001F600\"\n",
          "l = 'C:\\Users\\nodejs\\templates'\nm = '<\\i\\c*\\s*>'\n",
          "m = \"\"\"\nRoses are red\nViolets are blue\"\"\"\n",
          "m = \"\"\"\\\n    The quick brown \\\n\n\n    fox.\\\n    \"\"\"\n",
          "q = \"\"\"Here are two quotation marks: \"\". Simple enough.\"\"\"\nr = \"\"\"\"This,\" she said.\"\"\"\"\n",
          "t = '''\nThe first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n'''\n",
          "u = ''''That,' she said, 'is it.''''\nv = '''''two'''''\n",
          "b1 = true\nb2 = false\n",
          "d1 = 1979-05-27T07:32:00Z\nd2 = 1979-05-27T00:32:00.999999-07:00\nd3 = 1979-05-27 07:32:00Z\n"
              + "d4 = 1979-05-27t07:32:00z\nd5 = 1979-05-27\nd6 = 07:32:00\nd7 = 00:32:00.999999\n",
          "a = [1, 2, 3]\nb = [\"x\", 'y', \"\"\"z\"\"\"]\nc = [[1, 2], [\"a\", 'b']]\nd = []\n"
              + "e = [\n  1,\n  2, # two\n]\nf = [ { x = 1 }, { y = 2 } ]\ng = [1, 'mixed', 2.0]\n",
          "[table]\nkey = 'v'\n[table.sub]\nk = 1\n[ 'quoted key' . \"and more\" ]\nx = 2\n",
          "name = { first = \"Tom\", last = \"Preston-Werner\" }\npoint = { x = 1, y = 2 }\n"
              + "animal = { type.name = \"pug\" }\nempty = {}\n",
          "fruit.apple.color = \"red\"\nfruit.apple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true\n",
          "[x.y.z.w]\na = 1\n[x]\nb = 2\n",
          "[[products]]\nname = \"Hammer\"\nsku = 738594937\n[[products]]\n[[products]]\nname = \"Nail\"\n",
          "[[fruits]]\nname = \"apple\"\n[fruits.physical]\ncolor = \"red\"\n[[fruits.varieties]]\nname = \"red"
              + " delicious\"\n[[fruits.varieties]]\nname = \"granny smith\"\n[[fruits]]\nname = \"banana\"\n",
          "\"127.0.0.1\" = \"value\"\n\"character encoding\" = \"value\"\n'key2' = \"value\"\n"
              + "'quoted \"value\"' = \"value\"\nbare_key-1 = 1\n1234 = \"v\"\n\"\" = \"blank\"\n",
          "a = 1\r\nb = 'x'\r\n[t]\r\nc = true\r\n",
          "site.\"google.com\" = true\n3.14159 = \"pi\"\n",
          "[a]\n[a.b]\n[a.c]\n  d = 1 # indented\n\t\te = 2\n",
          "i = { x = 1, }\nj = {\n  y = 2, # why\n  z = 3\n}\n",
          "x = 1 # trailing comment\n# comment\n\n\n[t] # comment after a header\n");

  static final List<String> INVALID =
      List.of(
          "a = 1\na = 2\n",
          "a = \n",
          "= 1\n",
          "a = 1 2\n",
          "a = \"open\n",
          "a = 'open\n",
          "a = \"\"\"open\n",
          "a = bare\n",
          "a = 01\n",
          "a = 1__0\n",
          "a = _1\n",
          "a = 1_\n",
          "a = 0x\n",
          "a = +0x10\n",
          "a = 1.\n",
          "a = .5\n",
          "a = 1e\n",
          "a = [1, 2\n",
          "a = [1 2]\n",
          "a = { x = 1\n",
          "a = \"\\q\"\n",
          "a = \"\\uD800\"\n",
          "[t]\n[t]\n",
          "[t]\nx = 1\n[t.x]\n",
          "a = [1]\n[[a]]\n",
          "[[a]]\n[a]\n",
          "fruit.apple = 1\nfruit.apple.color = 2\n",
          "[fruit]\napple.color = \"red\"\n[fruit.apple]\n",
          "a = { b = 1 }\na.c = 2\n",
          "a = { b = 1 }\n[a.c]\n",
          "[a\nb = 1\n",
          "[[a]\n",
          "[a]]\n",
          "a.b = 1\n[a]\n",
          "a = tru\n",
          "a = 1\rb = 2\n",
          "a = \"\u0001\"\n",
          "# \u0007 bell\n",
          "a = '''x''''''\n");

  @Test
  void readsTheCorpusAsJacksonDoes() {
    for (var doc : VALID) {
      assertThat(TomlReader.read(doc)).as(doc).isEqualTo(JacksonToml.parse(doc));
    }
  }

  @Test
  void refusesWhatJacksonRefuses() {
    for (var doc : INVALID) {
      assertThatThrownBy(() -> JacksonToml.parse(doc)).as("jackson: " + doc).isNotNull();
      assertThatThrownBy(() -> TomlReader.read(doc))
          .as(doc)
          .isInstanceOf(TomlReader.SyntaxError.class);
    }
  }

  /** TOML refuses these, and so does TomlReader, though Jackson lets them through. */
  static final List<String> STRICTER = List.of("a = 1979-13-27\n", "a = 24:00:00\n");

  @Test
  void refusesWhatJacksonLetsThrough() {
    for (var doc : STRICTER) {
      assertThat(JacksonToml.parse(doc).values()).as("jackson: " + doc).containsKey("a");
      assertThatThrownBy(() -> TomlReader.read(doc))
          .as(doc)
          .isInstanceOf(TomlReader.SyntaxError.class);
    }
  }

  @Test
  void numbersAreTyped() {
    var t = TomlReader.read("a = 1.50\nb = 99999999999999999999\nc = -inf\nd = 0x7f\n");
    assertThat(t.values())
        .containsEntry("a", new BigDecimal("1.50"))
        .containsEntry("b", new BigInteger("99999999999999999999"))
        .containsEntry("c", Double.NEGATIVE_INFINITY)
        .containsEntry("d", 127L);
  }

  @Test
  void anErrorNamesItsLine() {
    assertThatThrownBy(() -> TomlReader.read("a = 1\n\n[t]\nb = 'x'\nb = 'y'\n"))
        .isInstanceOf(TomlReader.SyntaxError.class)
        .hasMessage("the key b is defined twice")
        .satisfies(e -> assertThat(((TomlReader.SyntaxError) e).line()).isEqualTo(5));
  }

  @Test
  void nestingIsBounded() {
    var deep = "a = " + "[".repeat(TomlReader.MAX_DEPTH + 1) + "]".repeat(TomlReader.MAX_DEPTH + 1);
    assertThatThrownBy(() -> TomlReader.read(deep))
        .isInstanceOf(TomlReader.SyntaxError.class)
        .hasMessageContaining("nest deeper than " + TomlReader.MAX_DEPTH);
    var ok = "a = " + "[".repeat(TomlReader.MAX_DEPTH) + "]".repeat(TomlReader.MAX_DEPTH);
    assertThat(TomlReader.read(ok).values()).containsKey("a");
  }

  /** Lines that are TOML on their own and lines that are not, combined at random. */
  static final List<String> FRAGMENTS =
      List.of(
          "a = 1",
          "a = 2",
          "b = 'x'",
          "b.c = true",
          "b.d = 1.5",
          "c = [1, 2]",
          "c = [",
          "]",
          "d = { x = 1 }",
          "d.y = 2",
          "[t]",
          "[t]",
          "[t.u]",
          "[[arr]]",
          "[[arr]]",
          "[arr.sub]",
          "[[arr.list]]",
          "[b]",
          "[b.e]",
          "[d]",
          "[c]",
          "e = \"\"\"",
          "\"\"\"",
          "f = 0x1F",
          "f = 1e3",
          "g = nan",
          "h = 1979-05-27",
          "# note",
          "",
          "x",
          "y = ",
          "z = 'a' # c",
          "k = \"\\u00e9\"",
          "k2 = \"\\x\"",
          "[ 'q' ]",
          "\"q\" = 1",
          "m = { }",
          "n = [ [ 1 ], [ 'a' ] ]",
          "o = 1_000",
          "o = 1__0",
          "p = -0.0",
          "p = +inf");

  @Test
  void generatedDocumentsReadAsJacksonReadsThem() {
    var random = new Random(20261201);
    int accepted = 0;
    for (int i = 0; i < 20_000; i++) {
      var lines = new ArrayList<String>();
      int n = 1 + random.nextInt(8);
      for (int j = 0; j < n; j++) {
        lines.add(FRAGMENTS.get(random.nextInt(FRAGMENTS.size())));
      }
      var doc = String.join("\n", lines) + (random.nextBoolean() ? "\n" : "");
      Object theirs;
      try {
        theirs = JacksonToml.parse(doc);
      } catch (JacksonException | IllegalStateException e) {
        theirs = null;
      }
      Object ours;
      try {
        ours = TomlReader.read(doc);
        accepted++;
      } catch (TomlReader.SyntaxError e) {
        ours = null;
      }
      assertThat(ours).as(doc).isEqualTo(theirs);
    }
    // The generator must make both kinds, or the comparison says little.
    assertThat(accepted).isBetween(1_000, 19_000);
  }

  @Test
  void tablesKeepTheFilesOrder() {
    var t = TomlReader.read("z = 1\na = 2\nm = 3\n");
    assertThat(List.copyOf(t.values().keySet())).containsExactly("z", "a", "m");
    assertThat(t.values()).isEqualTo(Map.of("z", 1L, "a", 2L, "m", 3L));
  }
}
