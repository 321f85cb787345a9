Feature: Garbage collection
  The CNI GC verb releases every allocation of the network whose attachment the runtime no
  longer lists as valid. The runtime builds that list before it calls GC, so an ADD that ends in
  between is missing from it: allocations younger than `ipam.gcMinAgeSeconds` (60 by default)
  are kept.

  Scenario: stale attachments are released, valid ones kept
    Given a network "net1" with the IPAM configuration:
      """
      { "ranges": [[{ "subnet": "10.1.0.0/24" }]], "gcMinAgeSeconds": 0 }
      """
    When the runtime calls ADD for containers "c1" to "c3" on "net1"
    And the runtime calls GC on "net1" with valid attachments "c2/eth0"
    Then the call succeeds
    When the runtime calls CHECK for container "c2" on "net1"
    Then the call succeeds
    When the runtime calls CHECK for container "c1" on "net1"
    Then the call fails with CNI code 103
    When the runtime calls ADD for container "c4" on "net1"
    Then container "c4" gets the address "10.1.0.5/24"

  Scenario: an allocation made after the runtime built its list survives GC
    Given a network "net1" with the range set "10.1.0.0/24"
    When the runtime calls ADD for container "c1" on "net1"
    And the runtime calls GC on "net1" with valid attachments ""
    Then the call succeeds
    When the runtime calls CHECK for container "c1" on "net1"
    Then the call succeeds
    When the runtime calls ADD for container "c2" on "net1"
    Then container "c2" gets the address "10.1.0.3/24"

  Scenario: an allocation older than the minimum age is released
    Given a network "net1" with the IPAM configuration:
      """
      { "ranges": [[{ "subnet": "10.1.0.0/24" }]], "gcMinAgeSeconds": 1 }
      """
    When the runtime calls ADD for container "c1" on "net1"
    And 2 seconds pass
    And the runtime calls GC on "net1" with valid attachments ""
    Then the call succeeds
    When the runtime calls CHECK for container "c1" on "net1"
    Then the call fails with CNI code 103

  Scenario: a negative minimum age is rejected
    Given a network "net1" with the IPAM configuration:
      """
      { "ranges": [[{ "subnet": "10.1.0.0/24" }]], "gcMinAgeSeconds": -1 }
      """
    When the runtime calls GC on "net1" with valid attachments ""
    Then the call fails with CNI code 7
    And the error message contains "ipam.gcMinAgeSeconds"
