package dev.baton.examples.spring;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** Says which generation and pid answered: how the end-to-end tests tell generations apart. */
@RestController
class GenerationController {
  private final String identity;

  GenerationController(@Value("${BATON_GENERATION:0}") String generation) {
    this.identity = "generation " + generation + " pid " + ProcessHandle.current().pid() + "\n";
  }

  @GetMapping("/")
  String whoAnswers() {
    return identity;
  }
}
