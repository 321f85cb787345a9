@kubernetes
Feature: The cluster's own networks
  A secondary network must not capture the traffic of the cluster's services or pods. Leasehold
  refuses a network whose subnets overlap the service range (ServiceCIDR objects, or serviceCIDRs
  in the host configuration) or a node's spec.podCIDRs, unless the network opts in. It can also
  serve a node's own pod CIDRs, as host-local does for a primary pod network.

  Scenario: a network inside the service range is refused, and the pod is told
    Given a network "svc" inside the cluster's service range
    When node "node-1" calls ADD for container "a1" on "svc"
    Then the call fails with CNI code 7
    And the error message contains "overlaps the cluster's service range"
    And the error message contains "ipam.allowClusterOverlap"
    And the shards of "svc" are consistent and hold 0 addresses
    And the pod "a1" has a Warning Event "NetworkOverlapsCluster" whose message contains "service range"

  Scenario: a network over a node's pod CIDR is refused with both ranges named
    Given a node "node-7" with pod CIDRs "10.181.7.0/24"
    And a network "flat" with the range set "10.181.0.0/16"
    When node "node-1" calls ADD for container "a1" on "flat"
    Then the call fails with CNI code 7
    And the error message contains "subnet 10.181.0.0/16 overlaps the cluster's pod CIDR 10.181.7.0/24"
    And the error message contains "node-7-"

  Scenario: a network that opts in may overlap
    Given a network "svc" inside the cluster's service range
    And the network "svc" opts in to overlapping the cluster
    When node "node-1" calls ADD for container "a1" on "svc"
    Then the call succeeds

  Scenario: a node-local network hands out the node's own pod CIDRs
    Given a node "node-3" with pod CIDRs "10.183.3.0/24,fd00:183:3::/64"
    And a node "node-4" with pod CIDRs "10.183.4.0/24,fd00:183:4::/64"
    And a network "pods" that takes its ranges from the node's pod CIDRs
    When node "node-3" calls ADD for container "a1" on "pods"
    And node "node-4" calls ADD for container "b1" on "pods"
    Then container "a1" on "pods" gets an address in "10.183.3.0/24"
    And container "b1" on "pods" gets an address in "10.183.4.0/24"
    When node "node-3" calls DEL for container "a1" on "pods"
    Then the call succeeds

  Scenario: a node without pod CIDRs yet asks the runtime to retry
    Given a node "node-5" with pod CIDRs ""
    And a network "pods" that takes its ranges from the node's pod CIDRs
    When node "node-5" calls ADD for container "a1" on "pods"
    Then the call fails with CNI code 11
    And the error message contains "has no spec.podCIDRs yet"

  Scenario: a node's retried ADD gets addresses once its pod CIDRs are assigned
    Given a node "node-6" with pod CIDRs ""
    And a network "pods" that takes its ranges from the node's pod CIDRs
    When node "node-6" calls ADD for container "a1" on "pods"
    Then the call fails with CNI code 11
    When the controller-manager assigns node "node-6" the pod CIDRs "10.186.6.0/24"
    And node "node-6" calls ADD for container "a1" on "pods"
    Then container "a1" on "pods" gets an address in "10.186.6.0/24"

  Scenario: a node without pod CIDRs has nothing to release and cannot serve ADD
    Given a node "node-8" with pod CIDRs ""
    And a network "pods" that takes its ranges from the node's pod CIDRs
    When node "node-8" calls DEL for container "a1" on "pods"
    Then the call succeeds
    When the runtime calls GC on "pods" with valid attachments ""
    Then the call succeeds
    When the runtime calls STATUS on "pods"
    Then the call fails with CNI code 50
    And the error message contains "has no spec.podCIDRs yet"
