Feature: Errors
  Bad input gets CNI error JSON on stdout with the right code and a message naming the key,
  the value and the fix, a non-zero exit, and no change to stored state.

  Background:
    Given a network "net1" with the range set "10.1.0.0/24"
    And the runtime calls ADD for container "c0" on "net1"
    And the stored state is recorded

  Scenario Outline: a missing environment variable
    When the runtime calls ADD on "net1" without <variable>
    Then the call fails with CNI code 4
    And the error message contains "<variable>"
    And the stored state is unchanged

    Examples:
      | variable        |
      | CNI_CONTAINERID |
      | CNI_NETNS       |
      | CNI_IFNAME      |

  Scenario: stdin that is not JSON
    When the runtime calls ADD with stdin "{not json"
    Then the call fails with CNI code 6
    And the stored state is unchanged

  Scenario: an unsupported version
    When the runtime calls ADD with stdin "{\"cniVersion\": \"9.9.9\", \"name\": \"net1\", \"ipam\": {}}"
    Then the call fails with CNI code 1
    And the error message contains "9.9.9"

  Scenario Outline: an invalid configuration names the path and the value
    Given a network "broken" with the IPAM configuration:
      """
      <ipam>
      """
    When the runtime calls ADD for container "c1" on "broken"
    Then the call fails with CNI code 7
    And the error message contains "<path>"
    And the error message contains "<value>"
    And the stored state is unchanged

    Examples:
      | ipam                                                                     | path                        | value        |
      | {"ranges": [[{"subnet": "10.9.0.1/24"}]]}                                 | ipam.ranges[0][0].subnet    | 10.9.0.0/24  |
      | {"ranges": [[{"subnet": "10.9.0.0/24", "rangeEnd": "10.9.1.1"}]]}         | ipam.ranges[0][0].rangeEnd  | 10.9.1.1     |
      | {"ranges": [[{"subnet": "10.9.0.0/24"}], [{"subnet": "10.9.0.0/25"}]]}    | ipam.ranges[1][0]           | overlaps     |
      | {"ranges": [[{"subnet": "10.9.0.0/24"}, {"subnet": "fd00::/64"}]]}        | ipam.ranges[0][1]           | IPv6         |
      | {"ranges": [[{"subnet": "10.9.0.0/24", "gateway": "10.8.0.1"}]]}          | ipam.ranges[0][0].gateway   | 10.8.0.1     |
      | {"ranges": [[{"subnet": "10.9.0.0/24"}]], "exclude": ["10.9.0.300"]}      | ipam.exclude[0]             | 10.9.0.300   |

  Scenario: the same network name with other ranges is refused
    Given a network "net1" with the range set "10.1.0.0/25"
    When the runtime calls ADD for container "c1" on "net1"
    Then the call fails with CNI code 7
    And the error message contains "already defined"
    And the stored state is unchanged

  Scenario: a CHECK that does not match the reservation
    Given the runtime passes the configuration keys:
      """
      {"prevResult": {"cniVersion": "1.1.0", "ips": [{"address": "10.1.0.99/24"}]}}
      """
    When the runtime calls CHECK for container "c0" on "net1"
    Then the call fails with CNI code 103
    And the error message contains "10.1.0.99"
