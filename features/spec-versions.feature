Feature: CNI spec versions
  Results come in the layout of the version the configuration names, from 0.1.0 to 1.1.0.

  Background:
    Given a network "net1" with the range set "10.1.0.0/24"

  Scenario Outline: result layout of <version>
    Given the CNI spec version "<version>"
    When the runtime calls ADD for container "c1" on "net1"
    Then the call succeeds
    And the result names cniVersion "<version>"
    And the result has the key "<has>"
    And the result has no key "<lacks>"
    And container "c1" gets the address "10.1.0.2/24"

    Examples:
      | version | has | lacks      |
      | 0.1.0   | ip4 | ips        |
      | 0.2.0   | ip4 | ips        |
      | 0.3.0   | ips | ip4        |
      | 0.3.1   | ips | ip4        |
      | 0.4.0   | ips | interfaces |
      | 1.0.0   | ips | interfaces |
      | 1.1.0   | ips | interfaces |

  Scenario Outline: commands newer than the configuration's version
    Given the CNI spec version "<version>"
    When the runtime calls <command> for container "c1" on "net1"
    Then the call fails with CNI code 1
    And the error message contains "<command> needs cniVersion <since>"

    Examples:
      | version | command | since |
      | 0.3.1   | CHECK   | 0.4.0 |
      | 1.0.0   | GC      | 1.1.0 |
      | 1.0.0   | STATUS  | 1.1.0 |

  Scenario: VERSION lists every supported version
    When the runtime calls VERSION
    Then the result is:
      """
      {"cniVersion": "1.1.0", "supportedVersions": ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]}
      """
