@kubernetes @multus
Feature: Leasehold under Multus
  Multus reads a pod's k8s.v1.cni.cncf.io/networks annotation, calls the delegate plugin of each
  NetworkAttachmentDefinition with Leasehold as its IPAM, and writes what it got to the pod's
  k8s.v1.cni.cncf.io/network-status annotation. Each scenario runs through the Multus thin plugin
  built from its Go module, and through a driver that makes the same calls, inside real network
  namespaces with the real macvlan plugin.

  Scenario Outline: the network-status lists the address configured in the pod, through <path>
    Given a macvlan NetworkAttachmentDefinition "lan" in two namespaces
    When pod "p1" starts with networks "lan" through <path>
    Then pod "p1" started
    And the network-status of pod "p1" lists on "net1" the address of "lan" configured in the pod
    And the network of "lan" is consistent and holds 1 addresses
    When pod "p1" stops
    Then the network of "lan" is consistent and holds 0 addresses

    Examples:
      | path       |
      | Multus     |
      | the-driver |

  Scenario Outline: one NetworkAttachmentDefinition attached twice gets two addresses, through <path>
    Given a macvlan NetworkAttachmentDefinition "lan" in two namespaces
    When pod "p1" starts with networks "lan,lan" through <path>
    Then pod "p1" started
    And pod "p1" has different addresses of "lan" on "net1" and "net2"
    And the network of "lan" is consistent and holds 2 addresses

    Examples:
      | path       |
      | Multus     |
      | the-driver |

  Scenario Outline: requested ips are honoured, and a taken one fails the attachment, through <path>
    Given a macvlan NetworkAttachmentDefinition "fixed" with the ips capability
    When pod "p1" starts requesting address 50 of "fixed" through <path>
    And pod "p2" starts requesting address 50 of "fixed" through <path>
    Then pod "p1" started
    And pod "p1" has address 50 of "fixed" on "net1"
    And pod "p2" failed to start with a message containing "(runtimeConfig.ips[0]) is in use on network"
    And the network of "fixed" is consistent and holds 1 addresses

    Examples:
      | path       |
      | Multus     |
      | the-driver |

  Scenario Outline: DEL through Multus frees everything, through <path>
    Given a macvlan NetworkAttachmentDefinition "pair" with only 2 addresses
    When pod "p1" starts with networks "pair,pair" through <path>
    And pod "p1" stops
    Then the network of "pair" is consistent and holds 0 addresses
    When pod "p2" starts with networks "pair,pair" through <path>
    Then pod "p2" started
    And pod "p2" has different addresses of "pair" on "net1" and "net2"

    Examples:
      | path       |
      | Multus     |
      | the-driver |

  Scenario Outline: definitions in two namespaces that name one network share its pool, through <path>
    Given a macvlan NetworkAttachmentDefinition "pair" with only 2 addresses
    When pod "p1" starts with networks "pair" through <path>
    And pod "p2" starts in the second namespace with networks "pair" through <path>
    And pod "p3" starts with networks "pair" through <path>
    Then pod "p1" started
    And pod "p2" started
    And pod "p3" failed to start with a message containing "no free address"
    And the network of "pair" is consistent and holds 2 addresses

    Examples:
      | path       |
      | Multus     |
      | the-driver |
