Feature: Seeing what is allocated
  leasehold-inspect lists every allocated address of a network with its owner (pod, UID,
  interface, node, container) and checks that the shards agree with themselves. It exits with
  status 1 when it finds a problem, so it can run in scripts and monitoring.

  Scenario: the file store's allocations are listed with their pods
    Given a network "lan" with the range set "10.80.0.0/24"
    When the runtime calls ADD for container "a1" on "lan"
    And the runtime calls ADD for container "b1" on "lan"
    And the operator runs leasehold-inspect on "lan"
    Then leasehold-inspect exits with status 0
    And leasehold-inspect lists the address of container "a1" on "lan" with its pod
    And leasehold-inspect lists the address of container "b1" on "lan" with its pod

  Scenario: a damaged shard is reported and fails the check
    Given a network "lan" with the range set "10.80.0.0/24"
    When the runtime calls ADD for container "a1" on "lan"
    And a shard file of "lan" is damaged
    And the operator runs leasehold-inspect on "lan"
    Then leasehold-inspect exits with status 1
    And leasehold-inspect reports "1 unreadable shards"

  @kubernetes
  Scenario: the cluster's allocations are listed with their pods
    Given a network "lan" with the range set "10.80.0.0/24"
    When node "node-1" calls ADD for container "a1" on "lan"
    And node "node-2" calls ADD for container "b1" on "lan"
    And the operator runs leasehold-inspect on "lan"
    Then leasehold-inspect exits with status 0
    And leasehold-inspect lists the address of container "a1" on "lan" with its pod
    And leasehold-inspect lists the address of container "b1" on "lan" with its pod
