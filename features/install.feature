@kubernetes
Feature: Installing the plugin on a node
  leasehold-install, which the DaemonSet runs on every node, writes the plugin with its own
  Node.js runtime into the CNI bin directory, and a kubeconfig and host configuration for the
  Kubernetes store into the CNI configuration directory. The node then needs nothing else.

  Background:
    Given the plugin's ServiceAccount from the manifests
    And a network "net1" with the range set "10.72.0.0/24"

  Scenario: an installed node allocates through the API server
    When the installer runs on node "node-1"
    Then the installer exits with status 0
    And node "node-1" has the plugin and a kubeconfig only its owner can read
    When node "node-1" calls ADD for container "a1" on "net1"
    Then container "a1" gets the address "10.72.0.2/24"
    And the shards of "net1" are consistent and hold 1 addresses
    When node "node-1" calls DEL for container "a1" on "net1"
    Then the call succeeds
    And the shards of "net1" are consistent and hold 0 addresses

  Scenario: a missing plugin bundle fails the install and writes no plugin
    When the installer runs on node "node-2" with the flags "--plugin /nonexistent/leasehold"
    Then the installer exits with status 1
    And the installer output contains "failed to read /nonexistent/leasehold"
    And node "node-2" has no plugin
