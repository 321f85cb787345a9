@kubernetes
Feature: Addresses that stay with a StatefulSet pod
  With "stickyStatefulSets": true, a pod that a StatefulSet controls gets the same address back
  when it is deleted and created again, on any node. DEL keeps the address for the pod's name;
  the reconciler frees it once the ordinal no longer exists.

  Background:
    Given a network "db" with the IPAM configuration:
      """
      {"ranges": [[{"subnet": "10.72.0.0/24"}]], "stickyStatefulSets": true}
      """
    And a StatefulSet "db" with 2 replicas
    And the StatefulSet pod "db-0" exists

  Scenario: a recreated pod on another node gets its address back
    When node "node-1" calls ADD for pod "db-0" as container "c1" on "db"
    And node "node-1" calls ADD for container "filler" on "db"
    And node "node-1" calls DEL for pod "db-0" as container "c1" on "db"
    And the pod "db-0" is deleted and created again
    And node "node-2" calls ADD for pod "db-0" as container "c2" on "db"
    Then containers "c1" and "c2" on "db" got the same address
    And the shards of "db" are consistent and hold 2 addresses

  Scenario: a pod that no StatefulSet controls gets no kept address
    Given a pod "web" that no StatefulSet controls
    When node "node-1" calls ADD for pod "web" as container "w1" on "db"
    And node "node-1" calls DEL for pod "web" as container "w1" on "db"
    Then the shards of "db" are consistent and hold 0 addresses

  Scenario: two StatefulSet pods keep different addresses
    Given the StatefulSet pod "db-1" exists
    When node "node-1" calls ADD for pod "db-0" as container "c1" on "db"
    And node "node-2" calls ADD for pod "db-1" as container "d1" on "db"
    Then containers "c1" and "d1" on "db" got different addresses
