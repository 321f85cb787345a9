Feature: Repeated ADD
  Runtimes retry. An ADD for an attachment that already holds addresses returns them and
  allocates nothing new.

  Scenario: the same attachment gets the same address back
    Given a network "net1" with the range set "10.1.0.0/24"
    When the runtime calls ADD for container "c1" on "net1"
    And the runtime calls ADD for container "c1" on "net1"
    And the runtime calls ADD for container "c2" on "net1"
    Then container "c1" gets the address "10.1.0.2/24"
    And container "c2" gets the address "10.1.0.3/24"

  Scenario: a repeated ADD does not consume the pool
    Given a network "tiny" with the range set "10.2.0.0/30"
    When the runtime calls ADD for container "c1" on "tiny"
    And the runtime calls ADD for container "c1" on "tiny"
    And the runtime calls ADD for container "c1" on "tiny"
    Then the call succeeds
    And container "c1" gets the address "10.2.0.2/30"
