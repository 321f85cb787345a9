Feature: Exhaustion
  A full pool fails ADD with a message that names the network, the range and the fix, and
  STATUS reports that the network cannot serve an ADD.

  Background:
    Given a network "small" with the range set "10.1.0.0/29"

  Scenario: the range size succeeds, the rest fail
    When the runtime calls ADD for containers "c1" to "c8" on "small"
    Then 5 ADD calls succeeded
    And the addresses handed out so far are all different
    And the call fails with CNI code 100
    And the error message contains "no free address on network \"small\""
    And the error message contains "10.1.0.0/29"

  Scenario: STATUS fails with code 50 on a full pool
    Given the CNI spec version "1.1.0"
    When the runtime calls STATUS on "small"
    Then the call succeeds
    When the runtime calls ADD for containers "c1" to "c5" on "small"
    And the runtime calls STATUS on "small"
    Then the call fails with CNI code 50
    And the error message contains "range set 0"

  Scenario: a failed second range set gives back the first
    The address taken and given back in the first attempt is not reused at once: each shard
    searches from just after its most recent allocation.

    Given a network "pair" with the IPAM configuration:
      """
      {"ranges": [[{"subnet": "10.2.0.0/24"}], [{"subnet": "10.3.0.0/30"}]]}
      """
    When the runtime calls ADD for container "c1" on "pair"
    And the runtime calls ADD for container "c2" on "pair"
    Then the call fails with CNI code 100
    When the runtime calls DEL for container "c1" on "pair"
    And the runtime calls ADD for container "c2" on "pair"
    Then container "c2" gets the address "10.2.0.4/24,10.3.0.2/30"
