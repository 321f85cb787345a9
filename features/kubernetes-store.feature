@kubernetes
Feature: Kubernetes store
  With "store": {"type": "kubernetes"} in the host configuration, allocations live in shard
  ConfigMaps of the API server, written by compare-and-swap under shard Leases, so addresses are
  unique across every node of the cluster.

  Background:
    Given a network "net1" with the range set "10.70.0.0/22"

  Scenario: nodes never hand out the same address
    When node "node-1" calls ADD for container "a1" on "net1"
    And node "node-2" calls ADD for container "b1" on "net1"
    And node "node-1" calls ADD for container "a2" on "net1"
    And node "node-2" calls ADD for container "b2" on "net1"
    Then the addresses handed out so far are all different
    And 4 ADD calls succeeded
    And the shards of "net1" are consistent and hold 4 addresses

  Scenario: a repeated ADD on the node returns the same address
    When node "node-1" calls ADD for container "a1" on "net1"
    And node "node-1" calls ADD for container "a1" on "net1"
    Then the shards of "net1" are consistent and hold 1 addresses

  Scenario: DEL frees the address, even from a node without the hint
    When node "node-1" calls ADD for container "a1" on "net1"
    And node "node-2" calls DEL for container "a1" on "net1"
    Then the call succeeds
    And the shards of "net1" are consistent and hold 0 addresses

  Scenario: shard objects are valid, labelled Kubernetes names
    Given a network "v6" with the range set "fd00:0070:0000::/64"
    When node "node-1" calls ADD for container "a1" on "v6"
    And node "node-1" calls ADD for container "a1" on "net1"
    Then every shard ConfigMap of "v6" is labelled with its network and shard
    And every shard ConfigMap of "net1" is labelled with its network and shard

  Scenario: the same network name with other ranges is refused and the pool left alone
    When node "node-1" calls ADD for container "a1" on "net1"
    And the network "net1" is redefined with the range set "10.70.0.0/24"
    And node "node-2" calls ADD for container "b1" on "net1"
    Then the call fails with CNI code 7
    And the error message contains "already defined with other ranges"
    And the shards of "net1" are consistent and hold 1 addresses

  Scenario: an unreachable API server is a code 11, never a crash
    Given the API server cannot be reached from node "node-9"
    When node "node-9" calls ADD for container "z1" on "net1"
    Then the call fails with CNI code 11
    And the error message contains "127.0.0.1:9"

  Scenario: a small range is exhausted across nodes
    Given a network "tiny" with the range set "10.71.0.0/29"
    When node "node-1" calls ADD for containers "t1" to "t3" on "tiny"
    And node "node-2" calls ADD for containers "u1" to "u3" on "tiny"
    Then 5 ADD calls succeeded
    And the call fails with CNI code 100
    And the shards of "net1" are consistent and hold 0 addresses
    And the shards of "tiny" are consistent and hold 5 addresses

  Scenario: a shard without room for another owner record counts as full
    Given a network "wide" with the range set "10.73.0.0/21"
    And the first shard of "wide" is filled with owner records up to its size limit
    When node "node-1" calls ADD for container "a1" on "wide"
    Then container "a1" on "wide" gets an address in "10.73.4.0/22"
    Given the runtime passes the configuration keys:
      """
      {"runtimeConfig": {"ips": ["10.73.3.250"]}}
      """
    When node "node-1" calls ADD for container "a2" on "wide"
    Then the call fails with CNI code 102
    And the error message contains "has no room for another owner record"
