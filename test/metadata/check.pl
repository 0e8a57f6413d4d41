#!/usr/bin/perl
# Checks that META.json is a valid PGXN META.json (spec 1.0.0: the required
# fields) and that its versions agree with tenancy.control, so a release
# cannot ship mismatched metadata.  Prints one PASS/FAIL line per check.
use strict;
use warnings;
use JSON::PP;
use File::Basename qw(dirname);

my $root = dirname(__FILE__) . '/../..';
my $failures = 0;
sub check {
    my ($ok, $what) = @_;
    print(($ok ? 'PASS ' : 'FAIL ') . "$what\n");
    $failures++ unless $ok;
}

open(my $control_fh, '<', "$root/tenancy.control") or die "tenancy.control: $!";
my ($control_version) = map { /^default_version\s*=\s*'([^']+)'/ ? $1 : () } <$control_fh>;

my $meta = eval {
    open(my $fh, '<', "$root/META.json") or die "META.json: $!";
    local $/;
    decode_json(<$fh>);
};
check(defined $meta, 'META.json parses as JSON') or exit 1;
check(($meta->{'meta-spec'}{version} // '') eq '1.0.0', 'META.json follows meta-spec 1.0.0');
for my $field (qw(name abstract version maintainer license provides)) {
    check(defined $meta->{$field}, "META.json has $field");
}
check(($meta->{name} // '') eq 'tenancy', 'META.json names the tenancy extension');
check(($meta->{version} // '') eq ($control_version // ''), 'META.json version matches tenancy.control');
check(($meta->{provides}{tenancy}{version} // '') eq ($control_version // ''),
      'META.json provides.tenancy.version matches tenancy.control');
check(defined $meta->{prereqs}{runtime}{requires}{PostgreSQL}
          && $meta->{prereqs}{runtime}{requires}{PostgreSQL} =~ /^15\./,
      'META.json requires PostgreSQL >= 15');
exit($failures ? 1 : 0);
