Feature: Requested addresses
  A runtime may ask for specific addresses through runtimeConfig.ips (the "ips" capability),
  args.cni.ips or the CNI_ARGS key IP. Every requested address must be handed out, or the ADD
  fails naming it.

  Background:
    Given a network "net1" with the IPAM configuration:
      """
      {"ranges": [[{"subnet": "10.1.0.0/24"}]], "exclude": ["10.1.0.200/29"]}
      """

  Scenario: runtimeConfig.ips is honoured
    Given the runtime passes the configuration keys:
      """
      {"runtimeConfig": {"ips": ["10.1.0.77/24"]}}
      """
    When the runtime calls ADD for container "c1" on "net1"
    Then container "c1" gets the address "10.1.0.77/24"

  Scenario: a taken address fails the ADD and names the holder
    Given the runtime passes the configuration keys:
      """
      {"runtimeConfig": {"ips": ["10.1.0.77"]}}
      """
    When the runtime calls ADD for container "c1" on "net1"
    And the stored state is recorded
    And the runtime calls ADD for container "c2" on "net1"
    Then the call fails with CNI code 101
    And the error message contains "10.1.0.77"
    And the error message contains "pod default/c1"
    And the stored state is unchanged

  Scenario Outline: an address that cannot be handed out
    Given the runtime passes the configuration keys:
      """
      {"args": {"cni": {"ips": ["<address>"]}}}
      """
    And the stored state is recorded
    When the runtime calls ADD for container "c1" on "net1"
    Then the call fails with CNI code 102
    And the error message contains "<reason>"
    And the stored state is unchanged

    Examples:
      | address    | reason                          |
      | 10.1.0.1   | it is the gateway               |
      | 10.1.0.203 | it is excluded                  |
      | 10.1.0.255 | network or broadcast address    |
      | 10.9.0.9   | it is outside every range       |
      | fd00::9    | no IPv6 range is configured     |

  Scenario: args win over CNI_ARGS
    Given the runtime passes the configuration keys:
      """
      {"args": {"cni": {"ips": ["10.1.0.50"]}}}
      """
    And the runtime passes CNI_ARGS "IP=10.1.0.60"
    When the runtime calls ADD for container "c1" on "net1"
    Then container "c1" gets the address "10.1.0.50/24"

  Scenario: CNI_ARGS IP is used alone
    Given the runtime passes CNI_ARGS "IgnoreUnknown=1;IP=10.1.0.60"
    When the runtime calls ADD for container "c1" on "net1"
    Then container "c1" gets the address "10.1.0.60/24"
