@kubernetes @reconciler
Feature: Reconciler
  leasehold-reconcile frees the addresses of pods that vanished without a CNI DEL. It marks an
  address stale when its pod is gone, replaced or finished, frees it on a later run once the
  grace period has passed and a fresh read of the pod agrees, and never frees a live pod's
  address.

  Background:
    Given a network "net1" with the IPAM configuration:
      """
      { "ranges": [[{ "subnet": "10.90.0.0/24", "rangeStart": "10.90.0.10", "rangeEnd": "10.90.0.12" }]] }
      """
    And node "node-1" is Ready

  Scenario: addresses of pods deleted without DEL are marked, then freed, then handed out again
    Given pod "p1" runs on node "node-1" with an address on "net1"
    And pod "p2" runs on node "node-1" with an address on "net1"
    And pod "p3" runs on node "node-1" with an address on "net1"
    When pod "p1" is deleted without a DEL
    And the reconciler runs with a grace period of "2s"
    Then the reconciler marked 1, cleared 0 and freed 0 addresses
    And the address of pod "p1" on "net1" is marked
    When 2 seconds pass
    And the reconciler runs with a grace period of "2s"
    Then the reconciler marked 0, cleared 0 and freed 1 addresses
    And pod "p1" holds no address on "net1"
    When pod "p4" starts on node "node-1" with an address on "net1"
    Then pod "p4" got an address that pod "p1" held
    And the store of "net1" is consistent and holds 3 addresses

  Scenario: a pod created after the pod list keeps its address
    When the reconciler runs while pod "late" starts on node "node-1" with an address on "net1"
    Then pod "late" holds its address on "net1"
    When the reconciler runs with a grace period of "0s"
    Then pod "late" holds its address on "net1"
    And the address of pod "late" on "net1" is unmarked
    And the store of "net1" is consistent and holds 1 addresses

  Scenario: a pod recreated under its name during a run keeps only the new address
    Given pod "web" runs on node "node-1" with an address on "net1"
    When the reconciler runs while pod "web" is recreated on node "node-1" with an address on "net1"
    And the reconciler runs with a grace period of "0s"
    And the reconciler runs with a grace period of "0s"
    Then pod "web" holds its address on "net1"
    And the address of pod "web" on "net1" is unmarked
    And the store of "net1" is consistent and holds 1 addresses

  Scenario: a static pod keeps its address, although its mirror pod has another UID
    Given static pod "etcd-node-1" runs on node "node-1" with an address on "net1"
    When the reconciler runs with a grace period of "0s"
    And the reconciler runs with a grace period of "0s"
    Then pod "etcd-node-1" holds its address on "net1"
    And the address of pod "etcd-node-1" on "net1" is unmarked
    And the store of "net1" is consistent and holds 1 addresses

  Scenario: a running pod missing from the pod list is read again and kept
    Given pod "alive" runs on node "node-1" with an address on "net1"
    When the reconciler runs without pod "alive" in its pod list
    Then the reconciler marked 1, cleared 0 and freed 0 addresses
    When the reconciler runs without pod "alive" in its pod list
    Then the reconciler marked 0, cleared 1 and freed 0 addresses
    And pod "alive" holds its address on "net1"
    And the store of "net1" is consistent and holds 1 addresses

  Scenario: pods of a NotReady node keep their addresses and Failed pods lose theirs
    Given node "node-2" is NotReady
    And pod "on-down" runs on node "node-2" with an address on "net1"
    And pod "failed" runs on node "node-1" with an address on "net1"
    When pod "failed" is Failed
    And the reconciler runs with a grace period of "0s"
    And the reconciler runs with a grace period of "0s"
    Then pod "on-down" holds its address on "net1"
    And pod "failed" holds no address on "net1"
    And the store of "net1" is consistent and holds 1 addresses

  Scenario: sticky addresses stay while the StatefulSet covers the ordinal
    Given a network "sts" with the range set "10.91.0.0/24"
    And a StatefulSet "db" with 2 replicas in the pod namespace
    And pod "db-0" exists on node "node-1"
    And sticky addresses on "sts" detached an hour ago for pods "db-0, db-1, db-2"
    When the reconciler runs with a grace period of "0s"
    And the reconciler runs with a grace period of "0s"
    Then the sticky address of pod "db-0" on "sts" is kept
    And the sticky address of pod "db-1" on "sts" is kept
    And the sticky address of pod "db-2" on "sts" is freed
    When the StatefulSet "db" is scaled to 1
    And the reconciler runs with a grace period of "0s"
    And the reconciler runs with a grace period of "0s"
    Then the sticky address of pod "db-0" on "sts" is kept
    And the sticky address of pod "db-1" on "sts" is freed

  Scenario: a StatefulSet pod's address outlives its DEL until the StatefulSet loses the ordinal
    Given a network "db" with the IPAM configuration:
      """
      { "ranges": [[{ "subnet": "10.94.0.0/24" }]], "stickyStatefulSets": true }
      """
    And a StatefulSet "db" with 2 replicas in the pod namespace
    And StatefulSet pod "db-1" runs on node "node-1" with an address on "db"
    When pod "db-1" is deleted after a DEL on "db"
    And the reconciler runs with a grace period of "0s"
    And the reconciler runs with a grace period of "0s"
    Then the sticky address of pod "db-1" on "db" is kept
    When the StatefulSet "db" is scaled to 1
    And the reconciler runs with a grace period of "0s"
    And the reconciler runs with a grace period of "0s"
    Then the sticky address of pod "db-1" on "db" is freed

  Scenario: a dry run lists what it would free and changes nothing
    Given pod "d1" runs on node "node-1" with an address on "net1"
    And pod "d2" runs on node "node-1" with an address on "net1"
    When pod "d1" is deleted without a DEL
    And pod "d2" is deleted without a DEL
    And the reconciler runs with a grace period of "0s"
    And the reconciler runs a dry run
    Then the dry run lists the addresses of pods "d1, d2" to free
    And the store namespace is unchanged
    And the store of "net1" is consistent and holds 2 addresses

  Scenario: empty shards and Leases nobody holds are removed
    Given a network "spare" with the range set "10.92.0.0/16"
    And pod "keeper" runs on node "node-1" with an address on "net1"
    And an empty shard of "spare"
    And a Lease "lh-expired" that expired an hour ago
    And a Lease "lh-unheld" without a holder
    And a Lease "lh-held" held by "node-7"
    When the reconciler runs with a grace period of "1h"
    Then the reconciler removed 1 empty shards and 2 Leases
    And the Leases "lh-expired, lh-unheld" are removed and "lh-held" is kept
    And the store namespace holds 1 shard ConfigMaps
    And the store of "net1" is consistent and holds 1 addresses

  Scenario: networks that no NetworkAttachmentDefinition uses are reported
    Given the NetworkAttachmentDefinition CRD is installed
    And a network "unused" with the range set "10.93.0.0/24"
    And a NetworkAttachmentDefinition for "net1"
    And pod "a1" runs on node "node-1" with an address on "net1"
    And pod "b1" runs on node "node-1" with an address on "unused"
    When the reconciler runs with a grace period of "1h"
    Then the reconciler reports "unused" as unused
    And the reconciler reports "net1" as used
    And the store of "net1" is consistent and holds 1 addresses
