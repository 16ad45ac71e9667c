package dev.yaad.server;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The module boundaries, checked on the compiled main classes of every module on the server's
 * class path (memory, agent, server): what the design says, enforced.
 */
class ArchitectureTest {
  static final JavaClasses MAIN = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .withImportOption(location -> !location.contains("-tests.jar")) // yaad-memory's test fixtures, in its test jar
      .importPackages("dev.yaad");

  @Test
  void agentAndServer_useTheMemoryEngineThroughItsFrontDoorOnly() {
    noClasses().that().resideInAnyPackage("dev.yaad.agent..", "dev.yaad.server..")
        .should().dependOnClassesThat().resideInAPackage("dev.yaad.memory.internal..")
        .because("the memory engine's store, cache tiers, search index and write path are reached through Memories")
        .check(MAIN);
  }

  @Test
  void dependenciesPointOneWay_serverToAgentToMemory() {
    noClasses().that().resideInAPackage("dev.yaad.memory..")
        .should().dependOnClassesThat().resideInAnyPackage("dev.yaad.agent..", "dev.yaad.server..").check(MAIN);
    noClasses().that().resideInAPackage("dev.yaad.agent..")
        .should().dependOnClassesThat().resideInAPackage("dev.yaad.server..").check(MAIN);
  }

  @Test
  void testFixtures_stayOutOfProductionCode() {
    noClasses().that().resideInAnyPackage("dev.yaad.memory..", "dev.yaad.agent..", "dev.yaad.server..")
        .should().dependOnClassesThat().resideInAPackage("dev.yaad.testing..")
        .because("the scripted LLM server is a test fixture (yaad-testing), not part of the server's jar")
        .check(MAIN);
  }
}
