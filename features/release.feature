Feature: Release
  DEL frees what an attachment holds. It succeeds when nothing is held, and needs neither the
  network namespace nor a previous result.

  Background:
    Given a network "net1" with the range set "10.1.0.0/29"

  Scenario: a freed address goes back to the pool
    When the runtime calls ADD for containers "c1" to "c5" on "net1"
    Then 5 ADD calls succeeded
    When the runtime calls ADD for container "c6" on "net1"
    Then the call fails with CNI code 100
    When the runtime calls DEL for container "c3" on "net1"
    Then the call succeeds
    And stdout is empty
    When the runtime calls ADD for container "c6" on "net1"
    Then container "c6" gets the address "10.1.0.4/29"

  Scenario: DEL twice succeeds
    When the runtime calls ADD for container "c1" on "net1"
    And the runtime calls DEL for container "c1" on "net1"
    And the runtime calls DEL for container "c1" on "net1"
    Then the call succeeds

  Scenario: DEL of a container that never had an address succeeds
    When the runtime calls DEL for container "ghost" on "net1"
    Then the call succeeds

  Scenario: DEL frees only the named interface
    When the runtime calls ADD for container "c1" interface "eth0" on "net1"
    And the runtime calls ADD for container "c1" interface "net1" on "net1"
    And the runtime calls DEL for container "c1" interface "eth0" on "net1"
    And the runtime calls CHECK for container "c1" interface "net1" on "net1"
    Then the call succeeds
