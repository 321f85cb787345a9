@kubernetes
Feature: Events on the pod
  When an ADD fails for a reason the pod's owner can act on, Leasehold records a Warning Event on
  the pod, where kubectl describe shows it. Recording is best effort: it never changes the
  answer to the runtime.

  Scenario: an exhausted range is reported on the pod
    Given a network "tiny" with the range set "10.75.0.0/30"
    When node "node-1" calls ADD for container "t1" on "tiny"
    And node "node-1" calls ADD for container "t2" on "tiny"
    Then the call fails with CNI code 100
    And the pod "t2" has a Warning Event "AddressPoolExhausted" whose message contains "10.75.0.0/30"

  Scenario: a taken requested address is reported on the pod
    Given a network "fixed" with the range set "10.76.0.0/24"
    And the runtime passes the configuration keys:
      """
      {"runtimeConfig": {"ips": ["10.76.0.9/24"]}}
      """
    When node "node-1" calls ADD for container "f1" on "fixed"
    And node "node-1" calls ADD for container "f2" on "fixed"
    Then the call fails with CNI code 101
    And the pod "f2" has a Warning Event "RequestedAddressInUse" whose message contains "10.76.0.9"

  Scenario: an Event that cannot be recorded leaves the error as it was
    Given a network "tiny" with the range set "10.75.0.0/30"
    And pods run in a namespace that does not exist
    When node "node-1" calls ADD for container "t1" on "tiny"
    And node "node-1" calls ADD for container "t2" on "tiny"
    Then the call fails with CNI code 100
    And the error message contains "no free address"
