Feature: Allocation
  Leasehold hands out one address from each range set of a network, with the gateway, routes
  and DNS of the network, and never the same address twice.

  Scenario Outline: first addresses of an IPv<family> network
    Given a network "net1" with the range set "<subnet>"
    When the runtime calls ADD for container "c1" on "net1"
    And the runtime calls ADD for container "c2" on "net1"
    Then container "c1" gets the address "<first>"
    And container "c2" gets the address "<second>"

    Examples:
      | family | subnet          | first          | second         |
      | 4      | 10.1.0.0/24     | 10.1.0.2/24    | 10.1.0.3/24    |
      | 6      | fd00:1::/64     | fd00:1::2/64   | fd00:1::3/64   |

  Scenario: dual-stack result with gateway, routes and DNS
    Given a network "dual" with the IPAM configuration:
      """
      {
        "ranges": [[{"subnet": "10.2.0.0/24", "gateway": "10.2.0.254"}], [{"subnet": "fd00:2::/64"}]],
        "routes": [{"dst": "0.0.0.0/0"}, {"dst": "fd00:99::/64", "gw": "fd00:2::1"}],
        "dns": {"nameservers": ["10.2.0.53"], "search": ["svc.example"]}
      }
      """
    When the runtime calls ADD for container "c1" on "dual"
    Then the call succeeds
    And the result is:
      """
      {
        "cniVersion": "1.1.0",
        "ips": [
          {"address": "10.2.0.1/24", "gateway": "10.2.0.254"},
          {"address": "fd00:2::2/64", "gateway": "fd00:2::1"}
        ],
        "routes": [{"dst": "0.0.0.0/0"}, {"dst": "fd00:99::/64", "gw": "fd00:2::1"}],
        "dns": {"nameservers": ["10.2.0.53"], "search": ["svc.example"]}
      }
      """

  Scenario: start, end and exclusions bound what is handed out
    Given a network "net1" with the IPAM configuration:
      """
      {"ranges": [[{"subnet": "10.3.0.0/24", "rangeStart": "10.3.0.10", "rangeEnd": "10.3.0.13"}]], "exclude": ["10.3.0.11/32", "10.3.0.12"]}
      """
    When the runtime calls ADD for containers "c1" to "c3" on "net1"
    Then container "c1" gets the address "10.3.0.10/24"
    And container "c2" gets the address "10.3.0.13/24"
    And 2 ADD calls succeeded

  Scenario: a point-to-point /31 hands out both addresses
    Given a network "p2p" with the IPAM configuration:
      """
      {"ranges": [[{"subnet": "10.4.0.0/31"}]]}
      """
    When the runtime calls ADD for containers "c1" to "c2" on "p2p"
    Then container "c1" gets the address "10.4.0.0/31"
    And container "c2" gets the address "10.4.0.1/31"

  Scenario: a large range allocates without walking it
    Given a network "big" with the range set "10.0.0.0/8"
    And a network "big6" with the range set "fd00:8::/48"
    When the runtime calls ADD for container "c1" on "big"
    And the runtime calls ADD for container "c1" on "big6"
    Then container "c1" interface "eth0" on "big" gets the address "10.0.0.2/8"
    And container "c1" interface "eth0" on "big6" gets the address "fd00:8::2/48"

  Scenario: two interfaces of one pod on one network get two addresses
    Given a network "net1" with the range set "10.5.0.0/24"
    When the runtime calls ADD for container "c1" interface "net1" on "net1"
    And the runtime calls ADD for container "c1" interface "net2" on "net1"
    Then container "c1" interface "net1" on "net1" gets the address "10.5.0.2/24"
    And container "c1" interface "net2" on "net1" gets the address "10.5.0.3/24"

  Scenario: networks are separate address spaces
    Given a network "blue" with the range set "10.6.0.0/24"
    And a network "green" with the range set "10.6.0.0/24"
    When the runtime calls ADD for container "c1" on "blue"
    And the runtime calls ADD for container "c2" on "green"
    Then container "c1" gets the address "10.6.0.2/24"
    And container "c2" gets the address "10.6.0.2/24"
