@kubernetes
Feature: Many networks, kept apart
  Each network name is its own address space. NetworkAttachmentDefinitions in different
  namespaces that name the same network share its pool, and must define it alike.

  Scenario: the same range in two networks is handed out independently
    Given a network "red" with the range set "10.73.0.0/29"
    And a network "blue" with the range set "10.73.0.0/29"
    When node "node-1" calls ADD for containers "r1" to "r5" on "red"
    And node "node-1" calls ADD for container "b1" on "blue"
    Then container "r1" on "red" and container "b1" on "blue" got the same address
    And the shards of "red" are consistent and hold 5 addresses
    And the shards of "blue" are consistent and hold 1 addresses
    When node "node-1" calls ADD for container "r6" on "red"
    Then the call fails with CNI code 100
    When node "node-1" calls ADD for container "b2" on "blue"
    Then the call succeeds

  Scenario: definitions in two namespaces that name one network share its pool
    Given a NetworkAttachmentDefinition "storage" in namespace "team-a" for network "shared" with the range set "10.74.0.0/24"
    And a NetworkAttachmentDefinition "storage" in namespace "team-b" for network "shared" with the range set "10.74.0.0/24"
    When node "node-1" calls ADD for container "a1" through "storage" in namespace "team-a"
    And node "node-2" calls ADD for container "b1" through "storage" in namespace "team-b"
    Then containers "a1" and "b1" on "shared" got different addresses
    And the shards of "shared" are consistent and hold 2 addresses

  Scenario: a definition that disagrees with the network's recorded ranges is refused
    Given a NetworkAttachmentDefinition "storage" in namespace "team-a" for network "shared" with the range set "10.74.0.0/24"
    And a NetworkAttachmentDefinition "storage" in namespace "team-c" for network "shared" with the range set "10.74.0.0/25"
    When node "node-1" calls ADD for container "a1" through "storage" in namespace "team-a"
    And node "node-1" calls ADD for container "c1" through "storage" in namespace "team-c"
    Then the call fails with CNI code 7
    And the error message contains "already defined with other ranges"
    And the shards of "shared" are consistent and hold 1 addresses

  Scenario: deleting a definition leaves its live allocations alone
    Given a NetworkAttachmentDefinition "storage" in namespace "team-a" for network "shared" with the range set "10.74.0.0/24"
    When node "node-1" calls ADD for container "a1" through "storage" in namespace "team-a"
    And the NetworkAttachmentDefinition "storage" in namespace "team-a" is deleted
    Then the shards of "shared" are consistent and hold 1 addresses
