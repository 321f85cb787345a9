Feature: Whereabouts configurations
  A whereabouts IPAM section works after changing only its type; its storage keys are ignored.

  Scenario: range, range_start, range_end and exclude
    Given a network "wb" with the IPAM configuration:
      """
      {
        "range": "192.168.50.0/24",
        "range_start": "192.168.50.10",
        "range_end": "192.168.50.12",
        "exclude": ["192.168.50.11/32"],
        "kubernetes": {"kubeconfig": "/etc/cni/net.d/whereabouts.d/whereabouts.kubeconfig"},
        "log_level": "debug"
      }
      """
    When the runtime calls ADD for containers "c1" to "c3" on "wb"
    Then container "c1" gets the address "192.168.50.10/24"
    And container "c2" gets the address "192.168.50.12/24"
    And 2 ADD calls succeeded

  Scenario: ipRanges give a dual-stack pod
    Given a network "wb6" with the IPAM configuration:
      """
      {"ipRanges": [{"range": "10.60.0.0/24"}, {"range": "fd00:60::/64"}], "network_name": "shared-wb"}
      """
    When the runtime calls ADD for container "c1" on "wb6"
    Then container "c1" gets the address "10.60.0.1/24,fd00:60::1/64"
