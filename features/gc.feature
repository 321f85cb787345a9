Feature: Garbage collection
  The CNI GC verb releases every allocation of the network whose attachment the runtime no
  longer lists as valid.

  Scenario: stale attachments are released, valid ones kept
    Given a network "net1" with the range set "10.1.0.0/24"
    When the runtime calls ADD for containers "c1" to "c3" on "net1"
    And the runtime calls GC on "net1" with valid attachments "c2/eth0"
    Then the call succeeds
    When the runtime calls CHECK for container "c2" on "net1"
    Then the call succeeds
    When the runtime calls CHECK for container "c1" on "net1"
    Then the call fails with CNI code 103
    When the runtime calls ADD for container "c4" on "net1"
    Then container "c4" gets the address "10.1.0.5/24"
